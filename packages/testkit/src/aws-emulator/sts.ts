import type { EmulatorContext } from "./call.js";
import { AwsError, escapeXml, XML_DECLARATION, xmlElement } from "./wire.js";

// STS on the real wire: the awsQuery protocol (POST /, form-encoded `Action=...&Version=...`,
// XML answers), which is what @aws-sdk/client-sts speaks. Only GetCallerIdentity: who Keyturn's
// credentials belong to. It needs no permission (IAM User Guide, GetCallerIdentity: "No
// permissions are required to perform this operation"), so any known access key may ask.

const NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";

/** Whether a request is for STS: signed for the `sts` service (SigV4 credential scope). */
export function isStsRequest(authorization: string | undefined): boolean {
  return (
    authorization !== undefined && /Credential=[^/]+\/\d{8}\/[^/]+\/sts\/aws4_request/.test(authorization)
  );
}

export function stsOperation(body: Buffer): string | undefined {
  return new URLSearchParams(body.toString("utf8")).get("Action") ?? undefined;
}

/**
 * GetCallerIdentity for the caller behind the access key: an assumed-role session ARN (AWS
 * answers with the session, not the role, and without the role's path).
 */
export function getCallerIdentity(ctx: EmulatorContext, accessKeyId: string | undefined): string {
  const caller = accessKeyId === undefined ? undefined : ctx.state.callers.get(accessKeyId);
  if (caller === undefined) {
    throw new AwsError("InvalidClientTokenId", "The security token included in the request is invalid.", {
      status: 403,
    });
  }
  const roleName = caller.roleArn.split("/").at(-1) ?? caller.roleArn;
  const session = caller.sessionName ?? accessKeyId ?? "session";
  return [
    xmlElement("Arn", `arn:aws:sts::${caller.accountId}:assumed-role/${roleName}/${session}`),
    xmlElement("UserId", `${caller.roleId}:${session}`),
    xmlElement("Account", caller.accountId),
  ].join("");
}

export function stsResponse(operation: string, result: string, requestId: string): string {
  return `${XML_DECLARATION}<${operation}Response xmlns="${NAMESPACE}"><${operation}Result>${result}</${operation}Result><ResponseMetadata>${xmlElement("RequestId", requestId)}</ResponseMetadata></${operation}Response>`;
}

export function stsError(error: AwsError, requestId: string): string {
  const type = error.status >= 500 ? "Receiver" : "Sender";
  return `${XML_DECLARATION}<ErrorResponse xmlns="${NAMESPACE}"><Error>${xmlElement("Type", type)}${xmlElement("Code", error.code)}<Message>${escapeXml(error.message)}</Message></Error>${xmlElement("RequestId", requestId)}</ErrorResponse>`;
}
