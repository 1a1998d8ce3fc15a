import type { OnCallProvider, TicketProvider, TicketProviderName } from "@keyturn/core";
import { createJiraTickets } from "./jira-tickets.js";
import { createLinearTickets } from "./linear-tickets.js";
import { createPagerDutyOnCall } from "./pagerduty-on-call.js";

/** The providers a deployment has set up (packages/config's IntegrationsConfig has this shape). */
export type IntegrationsOptions = {
  timeoutMs: number;
  pagerduty?: { token: string; apiUrl: string };
  jira?: { siteUrl: string; email: string; apiToken: string };
  linear?: { apiKey: string; apiUrl: string };
};

export type ConfiguredIntegrations = {
  onCall: Partial<Record<OnCallProvider["name"], OnCallProvider>>;
  tickets: Partial<Record<TicketProviderName, TicketProvider>>;
};

/** One adapter per configured provider, built once at each app's composition root. */
export function createIntegrations(options: IntegrationsOptions): ConfiguredIntegrations {
  const { timeoutMs } = options;
  return {
    onCall: {
      ...(options.pagerduty === undefined
        ? {}
        : {
            pagerduty: createPagerDutyOnCall({
              token: options.pagerduty.token,
              baseUrl: options.pagerduty.apiUrl,
              timeoutMs,
            }),
          }),
    },
    tickets: {
      ...(options.jira === undefined ? {} : { jira: createJiraTickets({ ...options.jira, timeoutMs }) }),
      ...(options.linear === undefined
        ? {}
        : { linear: createLinearTickets({ ...options.linear, timeoutMs }) }),
    },
  };
}
