// Slack for Keyturn, shared by the Bolt app (apps/slack) and the worker (the notifier): pure Block
// Kit builders, escaping, identity resolution and the Slack notifier.
export {
  observedSlackFetch,
  type SlackApiErrorObservation,
  type SlackApiErrorObserver,
} from "./api-error-observer.js";
export { type AppHomeInput, appHomeView } from "./blocks/app-home.js";
export { approvalMessage, approverMayExtend, type SlackMessageContent } from "./blocks/approval-message.js";
export { breakGlassAlert } from "./blocks/break-glass-alert.js";
export { type AwsAccessConfig, cliProfile, profileName } from "./blocks/cli-profile.js";
export { mention, rulesSummary, STATUS_BADGES, section, slackDate, targetText } from "./blocks/common.js";
export { ACTION_IDS, REQUEST_MODAL, type RequestActionId } from "./blocks/ids.js";
export {
  modalMetadata,
  type RequestableFlow,
  type RequestModalMetadata,
  type RequestPrefill,
  requestModal,
  targetValue,
} from "./blocks/request-modal.js";
export {
  milestoneButtonStatus,
  requesterMayExtend,
  requesterMessage,
  requesterMilestone,
} from "./blocks/requester-message.js";
export { type SignInCard, signInMessage } from "./blocks/sign-in-message.js";
export { formatDuration, parseDuration } from "./durations.js";
export { code, escapeMrkdwn, type PlainText, plainText, truncate } from "./escape.js";
export {
  createSlackIdentity,
  SLACK_IDENTITY_REFUSALS,
  type SlackIdentity,
  type SlackIdentityOptions,
  type SlackIdentityRefusalCode,
  type SlackIdentityResult,
  slackPrincipal,
} from "./identity.js";
export {
  createSlackNotifier,
  type NotifierLogger,
  type SlackNotifierConfig,
  type SlackNotifierOptions,
} from "./notifier.js";
export { createSlackPeopleDirectory } from "./people-directory.js";
export type { PersonRef, RequestCard, ReviewCard } from "./request-card.js";
export {
  type RequestFormInput,
  type RequestFormResult,
  readRequestForm,
  type ViewStateValues,
} from "./request-form.js";
export { callSlack, SlackCallError, translateSlackError } from "./slack-api-errors.js";
export { createSlackWebClient } from "./web-client.js";
