// Ids Slack echoes back to the app: button action ids, the modal's callback and block ids. The app
// routes on them and the builders emit them, so they live in one place.

export const ACTION_IDS = {
  approve: "request.approve",
  deny: "request.deny",
  cancel: "request.cancel",
  revoke: "request.revoke",
  extend: "request.extend",
  /** The App Home's "Request access" button. */
  openRequestModal: "request.open_modal",
  /** The modal's flow select: picking another flow re-renders the modal for it. */
  chooseFlow: "request_form.choose_flow",
  /** A `keyturn login` DM's answers; the value is the sign-in's id. */
  approveSignIn: "signin.approve",
  rejectSignIn: "signin.reject",
} as const;

export type RequestActionId = (typeof ACTION_IDS)[keyof typeof ACTION_IDS];

export const REQUEST_MODAL = {
  callbackId: "request_form.submit",
  blocks: {
    flow: "flow",
    target: "target",
    duration: "duration",
    reason: "reason",
    ticket: "ticket",
  },
  actions: {
    flow: ACTION_IDS.chooseFlow,
    target: "request_form.target",
    duration: "request_form.duration",
    reason: "request_form.reason",
    ticket: "request_form.ticket",
  },
} as const;
