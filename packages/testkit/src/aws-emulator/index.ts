// Local AWS emulator: SSO Admin, Identity Store, the SSO portal's GetRoleCredentials and path-style
// S3 on one loopback HTTP endpoint, for the real @aws-sdk clients (no stubbed `client.send`).
//
//   const emu = await startAwsEmulator({ region: "eu-west-1" });
//   const seeded = emu.seed({ users: [...], permissionSets: [...], buckets: [...] });
//   new SSOAdminClient({ endpoint: emu.endpoint, region: emu.region, credentials });
//   new S3Client({ endpoint: emu.endpoint, region: emu.region, forcePathStyle: true, credentials });
//
// Standalone: `pnpm exec tsx packages/testkit/src/aws-emulator/main.ts [--port 4566] [--empty]`.
export { maxCallsInAnyWindow } from "./call-log.js";
export { DEMO_ACCOUNT_ID, DEMO_ADMIN_ACCESS_KEY_ID, DEMO_ADMIN_ROLE_ARN, demoSeed } from "./demo-seed.js";
export { DEFAULT_ASYNC_FAILURE_REASON } from "./faults.js";
export { startAwsEmulator } from "./server.js";
export type {
  AsyncFailureRule,
  AwsEmulator,
  AwsEmulatorOptions,
  BucketEncryption,
  CallerRegistration,
  CallFilter,
  CallRecord,
  EmulatedAssignment,
  EmulatedRole,
  EmulatorSnapshot,
  FaultControls,
  FaultRule,
  FaultSettings,
  FaultSettingsPatch,
  LatencyRange,
  PolicyDocument,
  PortalSignIn,
  PrincipalRef,
  PrincipalType,
  QuotaOptions,
  SeedAccount,
  SeedAssignment,
  SeedBucket,
  SeedCaller,
  SeedData,
  SeedGroup,
  SeedInstance,
  SeedPermissionSet,
  SeedResult,
  SeedUser,
  ServiceName,
  SseAlgorithm,
} from "./types.js";
