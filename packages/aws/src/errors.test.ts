import { AppError } from "@keyturn/usecases";
import { describe, expect, it } from "vitest";
import { translateAwsError } from "./errors.js";

// The shapes the SDK throws (name + $metadata, members copied on), built by hand: the end-to-end
// translation over HTTP is covered in identity-center-client.test.ts and s3-client.test.ts.
function serviceError(name: string, status: number, message = "AWS says no", requestId = "req-1") {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status, requestId } });
}

function networkError(code: string) {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
}

describe("translateAwsError", () => {
  it.each([
    ["ThrottlingException", 400, "AWS_THROTTLED", true],
    ["TooManyRequestsException", 429, "AWS_THROTTLED", true],
    ["SlowDown", 503, "AWS_THROTTLED", true],
    ["SomethingNew", 429, "AWS_THROTTLED", true],
    ["ConflictException", 400, "AWS_CONFLICT", true],
    ["OperationAborted", 409, "AWS_CONFLICT", true],
    ["InternalServerException", 500, "AWS_UNAVAILABLE", true],
    ["InternalError", 500, "AWS_UNAVAILABLE", true],
    ["Unknown", 502, "AWS_UNAVAILABLE", true],
    ["ExpiredTokenException", 400, "AWS_CREDENTIALS", true],
    ["ValidationException", 400, "AWS_VALIDATION", false],
    ["AccessDeniedException", 400, "AWS_ACCESS_DENIED", false],
    ["AccessDenied", 403, "AWS_ACCESS_DENIED", false],
    ["ResourceNotFoundException", 400, "AWS_RESOURCE_NOT_FOUND", false],
    ["ServiceQuotaExceededException", 400, "AWS_SERVICE_QUOTA_EXCEEDED", false],
    ["NoSuchBucket", 404, "AWS_NO_SUCH_BUCKET", false],
    ["MalformedPolicy", 400, "AWS_MALFORMED_POLICY", false],
  ])("%s (HTTP %i) -> %s, retryable %s", (name, status, code, retryable) => {
    const translated = translateAwsError(serviceError(name, status), "SomeOperation");
    expect(translated).toBeInstanceOf(AppError);
    expect(translated.code).toBe(code);
    expect(translated.retryable).toBe(retryable);
  });

  it.each(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN"])(
    "treats the network error %s as transient",
    (code) => {
      const translated = translateAwsError(networkError(code), "ListInstances");
      expect(translated.code).toBe("AWS_UNAVAILABLE");
      expect(translated.retryable).toBe(true);
    },
  );

  it("keeps AWS's message, the operation and the request id, and the original as cause", () => {
    const original = serviceError("ValidationException", 400, "TargetId is not valid", "abc-123");
    const translated = translateAwsError(original, "CreateAccountAssignment");
    expect(translated.message).toBe(
      "CreateAccountAssignment failed: ValidationException: TargetId is not valid (AWS request id abc-123)",
    );
    expect(translated.cause).toBe(original);
  });

  it("passes AppErrors through and wraps anything else as a non-retryable unexpected error", () => {
    const mine = new AppError("PERMISSION_SET_NOT_FOUND", "gone", { retryable: false });
    expect(translateAwsError(mine, "X")).toBe(mine);
    const bug = translateAwsError(new TypeError("x is not a function"), "X");
    expect([bug.code, bug.retryable]).toEqual(["AWS_UNEXPECTED_RESPONSE", false]);
    expect(translateAwsError("a string", "X").code).toBe("AWS_UNEXPECTED_RESPONSE");
  });
});
