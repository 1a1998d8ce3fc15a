/** A Web API error answer (`{ ok: false, error }`), as opposed to a bug in the fake. */
export class SlackApiError extends Error {
  readonly error: string;
  /** Slack explains argument errors in `response_metadata.messages`. */
  readonly messages: readonly string[];

  constructor(error: string, messages: readonly string[] = []) {
    super(messages.length === 0 ? error : `${error}: ${messages.join("; ")}`);
    this.name = "SlackApiError";
    this.error = error;
    this.messages = messages;
  }
}

export function missingArgument(name: string): SlackApiError {
  return new SlackApiError("invalid_arguments", [`[ERROR] missing required field: ${name}`]);
}
