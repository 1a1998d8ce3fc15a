import { IdentitystoreClient } from "@aws-sdk/client-identitystore";
import { PutBucketEncryptionCommand, S3Client } from "@aws-sdk/client-s3";
import { type RoleCredentials, SSOClient } from "@aws-sdk/client-sso";
import {
  type AccountAssignmentOperationStatus,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  SSOAdminClient,
} from "@aws-sdk/client-sso-admin";
import type { AwsEmulator, BucketEncryption, SeedCaller, SeedData } from "./types.js";

// Real SDK clients pointed at an emulator, and the world most tests start from. Only tests import
// this file (it needs the SDK devDependencies).

export const ACCOUNT = "111122223333";
export const OTHER_ACCOUNT = "444455556666";
export const ADMIN_KEY = "AKIAADMINEXAMPLE0001";
export const ADMIN_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/Admin`;

const dummy = { accessKeyId: "AKIAKEYTURNEXAMPLE01", secretAccessKey: "not-checked" };

type ClientOptions = { maxAttempts?: number };

export function ssoAdminClient(emulator: AwsEmulator, options: ClientOptions = {}): SSOAdminClient {
  return new SSOAdminClient({
    endpoint: emulator.endpoint,
    region: emulator.region,
    credentials: dummy,
    maxAttempts: options.maxAttempts ?? 1,
  });
}

export function identityStoreClient(emulator: AwsEmulator, options: ClientOptions = {}): IdentitystoreClient {
  return new IdentitystoreClient({
    endpoint: emulator.endpoint,
    region: emulator.region,
    credentials: dummy,
    maxAttempts: options.maxAttempts ?? 1,
  });
}

export function portalClient(emulator: AwsEmulator): SSOClient {
  return new SSOClient({ endpoint: emulator.endpoint, region: emulator.region, maxAttempts: 1 });
}

export function s3Client(
  emulator: AwsEmulator,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): S3Client {
  return new S3Client({
    endpoint: emulator.endpoint,
    region: emulator.region,
    forcePathStyle: true,
    credentials,
    maxAttempts: 1,
  });
}

/** An S3 client acting as the SSO session GetRoleCredentials returned. */
export function sessionS3Client(emulator: AwsEmulator, credentials: RoleCredentials | undefined): S3Client {
  return s3Client(emulator, {
    accessKeyId: credentials?.accessKeyId ?? "",
    secretAccessKey: credentials?.secretAccessKey ?? "",
    ...(credentials?.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
  });
}

/** PutBucketEncryption over the SDK, as the bucket owner's administrator would run it. */
export async function putDefaultEncryption(
  emulator: AwsEmulator,
  credentials: { accessKeyId: string; secretAccessKey: string },
  bucket: string,
  encryption: BucketEncryption,
): Promise<void> {
  const s3 = s3Client(emulator, credentials);
  try {
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: {
                SSEAlgorithm: encryption.sseAlgorithm,
                ...(encryption.kmsMasterKeyId === undefined
                  ? {}
                  : { KMSMasterKeyID: encryption.kmsMasterKeyId }),
              },
              BucketKeyEnabled: encryption.bucketKeyEnabled ?? false,
            },
          ],
        },
      }),
    );
  } finally {
    s3.destroy();
  }
}

/**
 * Keyturn's own role as an emulator caller, with what its data-account role is given in
 * deploy/terraform: read and write the policies (and read the encryption) of `buckets`.
 */
export function keyturnCaller(accessKeyId: string, roleArn: string, buckets: readonly string[]): SeedCaller {
  return {
    accessKeyId,
    roleArn,
    accountId: roleArn.split(":")[4] ?? ACCOUNT,
    policies: [
      {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:GetEncryptionConfiguration"],
            Resource: buckets.map((bucket) => `arn:aws:s3:::${bucket}`),
          },
        ],
      },
    ],
  };
}

export const allowAll = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};

export function standardSeed(): SeedData {
  return {
    accounts: [ACCOUNT, OTHER_ACCOUNT],
    users: [
      { userName: "alice", emails: ["alice@example.com"], givenName: "Alice", familyName: "Liddell" },
      { userName: "bob", emails: ["bob@example.com"] },
      { userName: "carol", emails: ["carol@example.com"] },
    ],
    groups: [{ displayName: "Engineering", members: ["bob"] }],
    permissionSets: [
      {
        name: "S3Access",
        sessionDuration: "PT1H",
        description: "Data access",
        policies: [
          {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: ["s3:List*", "s3:GetBucket*"], Resource: "*" }],
          },
        ],
      },
      { name: "AdministratorAccess", sessionDuration: "PT4H", policies: [allowAll] },
    ],
    callers: [{ accessKeyId: ADMIN_KEY, roleArn: ADMIN_ROLE_ARN, accountId: ACCOUNT, policies: [allowAll] }],
  };
}

/**
 * Polls Describe…Status through the SDK until the request leaves IN_PROGRESS. Bounded, so a
 * request that never settles fails the test instead of hanging it.
 */
export async function waitForStatus(
  client: SSOAdminClient,
  instanceArn: string,
  kind: "creation" | "deletion",
  requestId: string | undefined,
  maxPolls = 200,
): Promise<AccountAssignmentOperationStatus> {
  for (let poll = 0; poll < maxPolls; poll++) {
    const status =
      kind === "creation"
        ? (
            await client.send(
              new DescribeAccountAssignmentCreationStatusCommand({
                InstanceArn: instanceArn,
                AccountAssignmentCreationRequestId: requestId,
              }),
            )
          ).AccountAssignmentCreationStatus
        : (
            await client.send(
              new DescribeAccountAssignmentDeletionStatusCommand({
                InstanceArn: instanceArn,
                AccountAssignmentDeletionRequestId: requestId,
              }),
            )
          ).AccountAssignmentDeletionStatus;
    if (status !== undefined && status.Status !== "IN_PROGRESS") {
      return status;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`Assignment ${kind} ${requestId} still IN_PROGRESS after ${maxPolls} polls`);
}

/** The error a rejected promise carries, so a test can look at its name and metadata. */
export async function caught(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number; requestId?: string } }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) {
      return error;
    }
    throw new Error(`Rejected with a non-error: ${String(error)}`);
  }
  throw new Error("Expected the call to fail");
}
