// PagerDuty, Jira Cloud and Linear on loopback, for the providers' own clients (@pagerduty/pdjs,
// jira.js, @linear/sdk): state a test drives, each provider's auth, errors and pagination,
// switchable faults, and signed webhooks.
//
//   const pd = await startPagerDutyEmulator({ now: () => clock });
//   api({ token: pd.token, url: `${pd.url}/oncalls`, data: { "include[]": ["users"] } });
//   const jira = await startJiraEmulator();
//   createCloudClient({ host: jira.url, auth: { type: "basic", ...jira.credentials } });
//   const linear = await startLinearEmulator();
//   new LinearClient({ apiKey: linear.apiKey, apiUrl: linear.apiUrl });
export type { ProviderFault } from "./faults.js";
export {
  type JiraEmulator,
  type JiraEmulatorOptions,
  type JiraOperation,
  startJiraEmulator,
} from "./jira.js";
export type {
  JiraCredential,
  JiraCredentialSeed,
  JiraIssue,
  JiraIssueSeed,
  JiraProject,
  JiraStatus,
  JiraStatusCategory,
  JiraUser,
  JiraUserSeed,
} from "./jira-state.js";
export {
  type LinearEmulator,
  type LinearEmulatorOptions,
  type LinearOperation,
  startLinearEmulator,
} from "./linear.js";
export {
  LINEAR_STATE_TYPES,
  type LinearApiKey,
  type LinearIssue,
  type LinearIssueSeed,
  type LinearStateType,
  type LinearTeam,
  type LinearUser,
  type LinearWorkflowState,
} from "./linear-state.js";
export {
  PAGERDUTY_ACCEPT,
  type PagerDutyEmulator,
  type PagerDutyEmulatorOptions,
  type PagerDutyOperation,
  type PagerDutyTokenAccess,
  startPagerDutyEmulator,
} from "./pagerduty.js";
export type {
  PdEscalationPolicy,
  PdEscalationPolicySeed,
  PdOnCall,
  PdOnCallSeed,
  PdSchedule,
  PdScheduleSeed,
  PdUser,
  PdUserSeed,
} from "./pagerduty-state.js";
export type { ProviderCall } from "./server.js";
export { type ReceivedWebhook, startWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.js";
export type { WebhookDelivery, WebhookSubscriptionInput } from "./webhooks.js";
