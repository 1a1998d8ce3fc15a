import type { App, RouteDeps } from "../route-context.js";
import { registerExportAuditEvents } from "./audit/export-audit-events.js";
import { registerListAuditEvents } from "./audit/list-audit-events.js";
import { registerVerifyAuditChain } from "./audit/verify-audit-chain.js";
import { registerApplyBucketPolicy } from "./buckets/apply-bucket-policy.js";
import { registerGetBucket } from "./buckets/get-bucket.js";
import { registerGetBucketAccess } from "./buckets/get-bucket-access.js";
import { registerGetBucketPolicy } from "./buckets/get-bucket-policy.js";
import { registerGetGeneratedPolicy } from "./buckets/get-generated-policy.js";
import { registerListBuckets } from "./buckets/list-buckets.js";
import { registerPutBucket } from "./buckets/put-bucket.js";
import { registerArchiveFlow } from "./flows/archive-flow.js";
import { registerGetFlow } from "./flows/get-flow.js";
import { registerListFlows } from "./flows/list-flows.js";
import { registerPutFlow } from "./flows/put-flow.js";
import { registerApproveRequest } from "./requests/approve-request.js";
import { registerCancelRequest } from "./requests/cancel-request.js";
import { registerCreateRequest } from "./requests/create-request.js";
import { registerDenyRequest } from "./requests/deny-request.js";
import { registerExtendRequest } from "./requests/extend-request.js";
import { registerGetRequest } from "./requests/get-request.js";
import { registerListRequests } from "./requests/list-requests.js";
import { registerOverrideDecision } from "./requests/override-decision.js";
import { registerRevokeRequest } from "./requests/revoke-request.js";
import { registerCreateToken } from "./tokens/create-token.js";
import { registerListTokens } from "./tokens/list-tokens.js";
import { registerRevokeToken } from "./tokens/revoke-token.js";

/** Every authenticated route; each declares its scopes, which the auth hook enforces. */
export function registerV1Routes(v1: App, deps: RouteDeps): void {
  registerPutFlow(v1, deps);
  registerListFlows(v1, deps);
  registerGetFlow(v1, deps);
  registerArchiveFlow(v1, deps);

  registerCreateRequest(v1, deps);
  registerListRequests(v1, deps);
  registerGetRequest(v1, deps);
  registerApproveRequest(v1, deps);
  registerDenyRequest(v1, deps);
  registerOverrideDecision(v1, deps);
  registerCancelRequest(v1, deps);
  registerRevokeRequest(v1, deps);
  registerExtendRequest(v1, deps);

  registerListAuditEvents(v1, deps);
  registerExportAuditEvents(v1, deps);
  registerVerifyAuditChain(v1, deps);

  registerCreateToken(v1, deps);
  registerListTokens(v1, deps);
  registerRevokeToken(v1, deps);

  registerPutBucket(v1, deps);
  registerListBuckets(v1, deps);
  registerGetBucket(v1, deps);
  registerGetBucketPolicy(v1, deps);
  registerGetGeneratedPolicy(v1, deps);
  registerApplyBucketPolicy(v1, deps);
  registerGetBucketAccess(v1, deps);
}
