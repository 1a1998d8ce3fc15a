import { describe, expect, it } from "vitest";
import { parseAccessText } from "./open-request-modal.js";

describe("/access text", () => {
  it.each([
    ["", { kind: "empty" }],
    ["  ", { kind: "empty" }],
    ["help", { kind: "help" }],
    ["s3-prod", { kind: "prefill", flow: "s3-prod", reason: "" }],
    [
      "s3-prod 2h INC-42 restore",
      { kind: "prefill", flow: "s3-prod", durationSeconds: 7200, reason: "INC-42 restore" },
    ],
    ["s3-prod 1h30m", { kind: "prefill", flow: "s3-prod", durationSeconds: 5400, reason: "" }],
    ["s3-prod restore the table", { kind: "prefill", flow: "s3-prod", reason: "restore the table" }],
  ])("%j", (text, parsed) => {
    expect(parseAccessText(text)).toEqual(parsed);
  });
});
