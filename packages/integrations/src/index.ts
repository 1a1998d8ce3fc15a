// Adapters for the on-call and ticket providers behind core's OnCallProvider and TicketProvider
// ports, on each provider's own client (@pagerduty/pdjs, jira.js, @linear/sdk), and the
// verification of their webhooks. Every answer is a typed value: nothing here throws at its
// callers, caches an answer, or approves on an error.
export {
  type ConfiguredIntegrations,
  createIntegrations,
  type IntegrationsOptions,
} from "./create-integrations.js";
export { DeadlineExceeded } from "./deadline.js";
export { createJiraTickets, type JiraTicketsOptions } from "./jira-tickets.js";
export { verifyJiraWebhook } from "./jira-webhook.js";
export { createLinearTickets, type LinearTicketsOptions } from "./linear-tickets.js";
export { LINEAR_WEBHOOK_TOLERANCE_MS, verifyLinearWebhook } from "./linear-webhook.js";
export { createPagerDutyOnCall, type PagerDutyOnCallOptions } from "./pagerduty-on-call.js";
export type { RawHeaders, WebhookInput } from "./webhook-signature.js";
