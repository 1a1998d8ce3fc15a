import { DECIDE_ERROR_CODES } from "@keyturn/core";
import { SLACK_IDENTITY_REFUSALS } from "@keyturn/slack";
import { describe, expect, it } from "vitest";
import { refusalText } from "./slack-errors.js";

describe("refusalText", () => {
  it("has words for every refusal, and escapes what it quotes", () => {
    for (const code of [
      ...DECIDE_ERROR_CODES,
      ...SLACK_IDENTITY_REFUSALS,
      "FLOW_NOT_FOUND",
      "IDENTITY_AMBIGUOUS",
    ] as const) {
      const text = refusalText({ code, message: "detail <!channel>" });
      expect(text.length).toBeGreaterThan(10);
      expect(text).not.toContain("<!channel>");
    }
  });
});
