// User text (reasons, tickets, flow names typed into /access) must never become markup. Slack
// parses exactly three control characters in mrkdwn: `&`, `<` and `>`; with them escaped,
// `<!channel>`, `<@U123>`, `<!subteam^S1>` and `<http://evil|click me>` show as literal text.
// Where we can, user text goes into `plain_text` objects instead, which Slack never parses.

const AT_MENTION_WORD = /(^|[^\p{L}\p{N}_])@(here|channel|everyone)(?![\p{L}\p{N}_])/giu;

/**
 * Escapes text for a mrkdwn field. Also breaks bare `@here`/`@channel`/`@everyone`, which some
 * clients and `link_names` still turn into broadcasts, with a word joiner after the `@`.
 */
export function escapeMrkdwn(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replace(AT_MENTION_WORD, "$1@\u2060$2");
}

/** Cuts text to Slack's limit for a field, marking the cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) {
    return text;
  }
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

export type PlainText = { type: "plain_text"; text: string; emoji: boolean };

/** A `plain_text` object for user-provided text: shown verbatim, never parsed for mentions or links. */
export function plainText(text: string, max = 3000): PlainText {
  // Slack rejects an empty text object; a zero-width space keeps the block valid.
  return { type: "plain_text", text: text === "" ? "\u200b" : truncate(text, max), emoji: false };
}

/** Inline code around escaped text, for identifiers (account ids, permission set names). */
export function code(text: string): string {
  return `\`${escapeMrkdwn(text).replaceAll("`", "ˋ")}\``;
}
