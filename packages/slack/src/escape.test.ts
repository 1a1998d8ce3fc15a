import { describe, expect, it } from "vitest";
import { code, escapeMrkdwn, plainText, truncate } from "./escape.js";

describe("escapeMrkdwn", () => {
  it.each([
    ["<!channel>", "&lt;!channel&gt;"],
    ["<!here|here>", "&lt;!here|here&gt;"],
    ["<!everyone>", "&lt;!everyone&gt;"],
    ["<@U123ABC>", "&lt;@U123ABC&gt;"],
    ["<!subteam^S123|@ops>", "&lt;!subteam^S123|@ops&gt;"],
    ["<http://evil.example|click me>", "&lt;http://evil.example|click me&gt;"],
    ["<mailto:x@y.z|mail>", "&lt;mailto:x@y.z|mail&gt;"],
    ["<!date^1^{date}|x>", "&lt;!date^1^{date}|x&gt;"],
    ["a & b", "a &amp; b"],
    // Already-escaped text is escaped again: it shows as typed, not as the entity it names.
    ["&lt;!channel&gt;", "&amp;lt;!channel&amp;gt;"],
  ])("makes %j literal", (input, expected) => {
    expect(escapeMrkdwn(input)).toBe(expected);
  });

  it("breaks bare broadcasts anywhere, but not inside words or addresses", () => {
    expect(escapeMrkdwn("@here please")).toBe("@\u2060here please");
    expect(escapeMrkdwn("ping @channel.")).toBe("ping @\u2060channel.");
    expect(escapeMrkdwn("(@Everyone)")).toBe("(@\u2060Everyone)");
    expect(escapeMrkdwn("ops@here.example and @channels")).toBe("ops@here.example and @channels");
  });

  it("leaves formatting characters alone (harmless) and never produces a raw < or >", () => {
    const nasty = "*bold* _it_ ~s~ `c` <<<>>> <@U1|<@U2>> \u0000\n<";
    const escaped = escapeMrkdwn(nasty);
    expect(escaped).toContain("*bold* _it_ ~s~ `c`");
    expect(escaped).not.toMatch(/[<>]/);
  });
});

describe("plainText and friends", () => {
  it("keeps user text verbatim, unparsed, and valid when empty or long", () => {
    expect(plainText("<!channel> *x*")).toEqual({ type: "plain_text", text: "<!channel> *x*", emoji: false });
    expect(plainText("").text).toBe("\u200b");
    expect(plainText("x".repeat(5000), 3000).text).toHaveLength(3000);
    expect(truncate("abcdef", 4)).toBe("abc…");
  });

  it("code() escapes and cannot be closed early", () => {
    expect(code("S3`<!here>")).toBe("`S3ˋ&lt;!here&gt;`");
  });
});
