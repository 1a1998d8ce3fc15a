import { AppError } from "@keyturn/usecases";
import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
} from "@slack/web-api";
import { describe, expect, it } from "vitest";
import { SlackCallError, translateSlackError } from "./slack-api-errors.js";

const platform = (error: string) => new WebAPIPlatformError({ ok: false, error });

describe("translateSlackError", () => {
  it("rate limits are retryable and carry Retry-After", () => {
    const error = translateSlackError(new WebAPIRateLimitedError(30), "chat.postMessage");
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: "SLACK_RATE_LIMITED",
      retryable: true,
      retryAfterSeconds: 30,
      message: "Slack rate-limited chat.postMessage; retry after 30s",
    });
  });

  it("Slack's own trouble is retryable: 5xx, network, internal_error", () => {
    expect(
      translateSlackError(new WebAPIHTTPError(503, "Service Unavailable", {}), "chat.update"),
    ).toMatchObject({
      code: "SLACK_UNAVAILABLE",
      retryable: true,
    });
    expect(translateSlackError(new WebAPIRequestError(new Error("ECONNRESET")), "chat.update")).toMatchObject(
      {
        code: "SLACK_UNREACHABLE",
        retryable: true,
      },
    );
    expect(translateSlackError(platform("internal_error"), "chat.update").retryable).toBe(true);
    expect(translateSlackError(platform("ratelimited"), "chat.update").retryable).toBe(true);
  });

  it("what a person must fix is permanent and says what to do", () => {
    expect(translateSlackError(platform("not_in_channel"), "chat.postMessage", "C1")).toMatchObject({
      code: "SLACK_REFUSED",
      retryable: false,
      slackError: "not_in_channel",
      message:
        "Slack chat.postMessage: Keyturn's bot is not a member of channel C1; invite it there with /invite @Keyturn",
    });
    expect(translateSlackError(platform("channel_not_found"), "chat.postMessage", "C9").message).toContain(
      "channel C9 not found; check the flow's approvalChannel",
    );
    expect(translateSlackError(platform("invalid_blocks"), "chat.update").message).toContain("Keyturn bug");
    expect(translateSlackError(platform("invalid_auth"), "chat.update").message).toContain(
      "check SLACK_BOT_TOKEN",
    );
    expect(translateSlackError(new WebAPIHTTPError(400, "Bad Request", {}), "x").retryable).toBe(false);
  });

  it("anything else is a non-retryable failure, and a translated error passes through", () => {
    const unknown = translateSlackError(new TypeError("boom"), "views.open");
    expect(unknown).toMatchObject({ code: "SLACK_CALL_FAILED", retryable: false });
    expect(translateSlackError(unknown, "other")).toBe(unknown);
    expect(unknown).toBeInstanceOf(SlackCallError);
  });
});
