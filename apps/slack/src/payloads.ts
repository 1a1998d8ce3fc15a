import { z } from "zod";

// What the listeners read from Slack's payloads, checked. The request guard has verified the
// signature; these check the shape, so a malformed payload gets a clear answer instead of a crash
// deep inside.

const SlackId = z.string().regex(/^[A-Z0-9]{2,}$/, "is not a Slack id");

export const SlashCommandSchema = z.object({
  user_id: SlackId,
  trigger_id: z.string().min(1),
  text: z.string().max(4000).default(""),
  channel_id: z.string().min(1),
});

/** A click on one of Keyturn's buttons: the value is a request id, and nothing else is trusted. */
export const RequestButtonSchema = z.object({
  user: z.object({ id: SlackId }),
  trigger_id: z.string().min(1),
  actions: z
    .array(
      z.object({
        action_id: z.string(),
        action_ts: z.string().optional(),
        value: z.uuid({ error: "is not a request id" }),
      }),
    )
    .min(1),
  container: z.object({ type: z.string() }).loose(),
  response_url: z.url().optional(),
  view: z.object({ id: z.string(), type: z.string() }).loose().optional(),
});

/** A click on a `keyturn login` DM: the value is a sign-in id, and nothing else is trusted. */
export const SignInButtonSchema = z.object({
  user: z.object({ id: SlackId }),
  actions: z
    .array(z.object({ action_id: z.string(), value: z.uuid({ error: "is not a sign-in id" }) }))
    .min(1),
  response_url: z.url().optional(),
});

/** A click without a request (the Home tab's "Request access"). */
export const OpenModalButtonSchema = z.object({
  user: z.object({ id: SlackId }),
  trigger_id: z.string().min(1),
  actions: z.array(z.object({ action_id: z.string(), action_ts: z.string().optional() })).min(1),
});

export const ChooseFlowSchema = z.object({
  user: z.object({ id: SlackId }),
  actions: z.array(z.object({ selected_option: z.object({ value: z.string() }) })).min(1),
  view: z.object({
    id: z.string(),
    hash: z.string(),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), z.unknown())) }),
  }),
});

export const ViewSubmissionSchema = z.object({
  user: z.object({ id: SlackId }),
  view: z.object({
    id: z.string().min(1),
    hash: z.string().min(1),
    private_metadata: z.string(),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), z.unknown())) }),
  }),
});

const Target = z.object({ accountId: z.string(), permissionSetName: z.string() });

export const ModalMetadataSchema = z.object({
  flow: z.string().min(1),
  version: z.number().int(),
  maxSeconds: z.number().int().positive(),
  minSeconds: z.number().int().positive().optional(),
  offeredSeconds: z.array(z.number().int().positive()).max(100).optional(),
  reason: z.object({ required: z.boolean(), pattern: z.string().optional() }),
  ticket: z.object({ required: z.boolean(), pattern: z.string().optional() }),
  targets: z.array(Target),
});
