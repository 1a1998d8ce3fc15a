/**
 * Tells people about a request's change (Slack, later maybe e-mail). Called by the worker for each
 * `request.notify` outbox message, at least once per event: implementations must be idempotent
 * (update messages in place, keyed by request and audit event). Transient failures (rate limited,
 * 5xx) are thrown as retryable AppErrors so the job retries with backoff; nothing is lost.
 */
export type RequestNotification = { requestId: string; event: string; auditEventId: string };
export type Notifier = { notify(notification: RequestNotification): Promise<void> };

/**
 * Asks a person in Slack whether a `keyturn login` is theirs (the `signin.notify` outbox message),
 * at least once per sign-in: implementations post the DM once.
 */
export type SignInNotifier = {
  /** "unreachable": nobody to ask (no such person in Slack, or no Slack); the sign-in then fails. */
  notifySignIn(signIn: { signInId: string }): Promise<"asked" | "unreachable" | "skipped">;
};
