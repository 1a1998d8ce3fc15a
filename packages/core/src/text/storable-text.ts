// What text Keyturn stores and shows. PostgreSQL refuses NUL in text and jsonb, and refuses an
// unpaired UTF-16 surrogate escaped in jsonb; other control characters are invisible in Slack and
// logs, where they can disguise what a reason or a name says. So they are refused at every edge,
// with a clear answer, before anything is written.

// C0 controls other than tab, line feed and carriage return; DEL; C1 controls; the two
// noncharacters U+FFFE and U+FFFF, which no text needs.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]/;
const LINE_BREAK_OR_TAB = /[\t\n\r]/;
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export type TextProblem = "control_character" | "line_break" | "unpaired_surrogate";

/**
 * Why `text` cannot be stored, or null when it can. `multiline`: tabs and line breaks are fine
 * (a reason, a comment); otherwise they are refused too (a name, a ticket).
 */
export function textProblem(text: string, options: { multiline?: boolean } = {}): TextProblem | null {
  if (CONTROL.test(text)) {
    return "control_character";
  }
  if (LONE_SURROGATE.test(text)) {
    return "unpaired_surrogate";
  }
  if (options.multiline !== true && LINE_BREAK_OR_TAB.test(text)) {
    return "line_break";
  }
  return null;
}

/** The problem in words, for an API error or a Slack form. */
export function describeTextProblem(problem: TextProblem): string {
  switch (problem) {
    case "control_character":
      return "must not contain NUL or other control characters";
    case "unpaired_surrogate":
      return "must be valid Unicode (it contains half of a UTF-16 surrogate pair)";
    case "line_break":
      return "must be a single line (no tabs or line breaks)";
  }
}
