/**
 * Paths pino censors. Secrets reach logs through headers, config dumps and error objects; these
 * cover the shapes we produce. Values that merely look like tokens are caught by `scrubSecrets`.
 */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "req.headers['x-slack-signature']",
  'res.headers["set-cookie"]',
  "headers.authorization",
  "authorization",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "password",
  "*.password",
  "signingSecret",
  "*.signingSecret",
  "botToken",
  "*.botToken",
  "appToken",
  "*.appToken",
  "secretAccessKey",
  "*.secretAccessKey",
  "sessionToken",
  "*.sessionToken",
  "databaseUrl",
  "*.databaseUrl",
];

// Keyturn API tokens, Slack tokens, AWS access key ids and URL-embedded passwords.
const SECRET_PATTERNS: readonly RegExp[] = [
  /\bkt_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
  /\bxapp-[A-Za-z0-9-]{10,}/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /(\/\/[^:/\s]+:)[^@/\s]+@/g,
];

export function scrubSecrets(text: string): string {
  let out = text;
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(pattern, (match, prefix: unknown) =>
      typeof prefix === "string" && match.startsWith("//") ? `${prefix}[REDACTED]@` : "[REDACTED]",
    );
  }
  return out;
}
