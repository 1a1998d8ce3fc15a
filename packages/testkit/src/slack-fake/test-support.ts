import type { JsonObject, SlackFake, SlackResponse } from "./types.js";

// Plain-fetch calls to the fake, encoded the way @slack/web-api encodes them (form fields, with
// anything that is not a string, number or boolean sent as JSON), for the fake's own tests.

export type ApiCallOptions = {
  encoding?: "form" | "json";
  /** Default: the fake's bot token as a Bearer header; `null` sends none. */
  token?: string | null;
  /** Put the token in the body (`token=` field, or a JSON member) instead of the header. */
  tokenInBody?: boolean;
  contentType?: string;
};

export type ApiAnswer = { status: number; headers: Headers; body: SlackResponse };

function formEncode(args: JsonObject): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined || value === null) {
      continue;
    }
    params.append(
      key,
      typeof value === "string" || typeof value === "number" || typeof value === "boolean"
        ? String(value)
        : JSON.stringify(value),
    );
  }
  return params.toString();
}

export async function callApi(
  fake: SlackFake,
  method: string,
  args: JsonObject = {},
  options: ApiCallOptions = {},
): Promise<ApiAnswer> {
  const token = options.token === undefined ? fake.botToken : options.token;
  const encoding = options.encoding ?? "form";
  const headers: Record<string, string> = {
    "content-type":
      options.contentType ??
      (encoding === "json" ? "application/json; charset=utf-8" : "application/x-www-form-urlencoded"),
  };
  const bodyArgs: JsonObject = { ...args };
  if (token !== null && options.tokenInBody === true) {
    bodyArgs.token = token;
  } else if (token !== null) {
    headers.authorization = `Bearer ${token}`;
  }
  const response = await fetch(`${fake.url}${method}`, {
    method: "POST",
    headers,
    body: encoding === "json" ? JSON.stringify(bodyArgs) : formEncode(bodyArgs),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as SlackResponse,
  };
}

/** Block Kit bits the tests post. */
export const section = (text: string, blockId?: string) => ({
  type: "section",
  ...(blockId === undefined ? {} : { block_id: blockId }),
  text: { type: "mrkdwn", text },
});

export const button = (actionId: string, value: string, text = actionId) => ({
  type: "button",
  action_id: actionId,
  value,
  text: { type: "plain_text", text },
});

export const modal = (overrides: JsonObject = {}) => ({
  type: "modal",
  callback_id: "access_request",
  title: { type: "plain_text", text: "Request access" },
  submit: { type: "plain_text", text: "Request" },
  blocks: [
    {
      type: "input",
      block_id: "reason",
      label: { type: "plain_text", text: "Reason" },
      element: { type: "plain_text_input", action_id: "reason_input" },
    },
  ],
  ...overrides,
});
