import type { SeedData } from "./types.js";

// The Identity Center the standalone emulator starts with (main.ts, unless --empty): enough to
// click through Keyturn locally. The admin credentials are AWS's documented example key.

export const DEMO_ACCOUNT_ID = "111122223333";
export const DEMO_ADMIN_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
export const DEMO_ADMIN_ROLE_ARN = `arn:aws:iam::${DEMO_ACCOUNT_ID}:role/Admin`;

const allowAll = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

// ViewOnlyAccess, reduced to its S3 part: data access must come from the bucket policy.
const viewOnlyS3 = {
  Version: "2012-10-17",
  Statement: [{ Sid: "ViewOnlyS3", Effect: "Allow", Action: ["s3:List*", "s3:GetBucket*"], Resource: "*" }],
};

export function demoSeed(): SeedData {
  return {
    instance: {
      instanceArn: "arn:aws:sso:::instance/ssoins-0123456789abcdef",
      identityStoreId: "d-0123456789",
      ownerAccountId: DEMO_ACCOUNT_ID,
      name: "keyturn-demo",
    },
    accounts: [{ accountId: DEMO_ACCOUNT_ID, name: "demo", email: "aws-demo@example.com" }],
    users: [
      {
        userName: "alice",
        emails: ["alice@example.com"],
        givenName: "Alice",
        familyName: "Liddell",
        displayName: "Alice Liddell",
      },
      {
        userName: "bob",
        emails: ["bob@example.com"],
        givenName: "Bob",
        familyName: "Builder",
        displayName: "Bob Builder",
      },
      {
        userName: "carol",
        emails: ["carol@example.com"],
        givenName: "Carol",
        familyName: "Danvers",
        displayName: "Carol Danvers",
      },
    ],
    groups: [
      { displayName: "Engineering", description: "Everyone who builds things", members: ["alice", "bob"] },
    ],
    permissionSets: [
      {
        name: "S3Access",
        sessionDuration: "PT1H",
        description: "Read and write the protected data",
        policies: [viewOnlyS3],
      },
      {
        name: "AdministratorAccess",
        sessionDuration: "PT1H",
        description: "Full access",
        policies: [allowAll],
      },
    ],
    buckets: [
      {
        name: "keyturn-demo-data",
        accountId: DEMO_ACCOUNT_ID,
        // SSE-KMS by default, as Keyturn's policy requires of a protected bucket.
        encryption: { sseAlgorithm: "aws:kms", bucketKeyEnabled: true },
        objects: { "README.txt": "Demo data.\n" },
      },
    ],
    callers: [
      {
        accessKeyId: DEMO_ADMIN_ACCESS_KEY_ID,
        roleArn: DEMO_ADMIN_ROLE_ARN,
        accountId: DEMO_ACCOUNT_ID,
        policies: [allowAll],
      },
    ],
  };
}
