import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import { scrubSecrets } from "./redact.js";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger({ name: "test", level: "info", destination }) };
}

describe("secrets never reach the logs", () => {
  const token = `kt_0123456789ab_${"x".repeat(43)}`;

  it("censors secret fields and authorization headers", () => {
    const { lines, logger } = capture();
    logger.info(
      { req: { headers: { authorization: `Bearer ${token}` } }, token, slack: { signingSecret: "s3cr3t" } },
      "hi",
    );
    const out = lines.join("");
    expect(out).not.toContain(token);
    expect(out).not.toContain("s3cr3t");
    expect(out).toContain("[REDACTED]");
  });

  it("scrubs secret-shaped values from messages and errors", () => {
    const { lines, logger } = capture();
    logger.error(
      { err: new Error(`bad token ${token} for postgresql://u:pw@db/x`) },
      `saw ${token} and AKIAABCDEFGHIJKLMNOP`,
    );
    const out = lines.join("");
    expect(out).not.toContain(token);
    expect(out).not.toContain("AKIAABCDEFGHIJKLMNOP");
    expect(out).not.toContain(":pw@");
  });

  it("leaves ordinary text alone", () => {
    expect(scrubSecrets("request 42 approved by ann")).toBe("request 42 approved by ann");
  });
});
