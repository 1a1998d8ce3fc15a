import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetRoleCredentialsCommand, SSOClient } from "@aws-sdk/client-sso";

// Live AWS sessions against an emulator in another process (benches): sign in as a user through
// the emulator's admin surface, get role credentials from the SSO portal with the real client-sso,
// read with the real S3 client, as `aws sso login` and `aws s3 cp` would.

export type LiveSession = S3Client;

export type EmulatorEndpoint = { endpoint: string; region: string };

export async function openSession(
  emulator: EmulatorEndpoint,
  input: { userName: string; accountId: string; roleName: string },
): Promise<S3Client> {
  const signIn = await fetch(`${emulator.endpoint}/_emulator/sign-in`, {
    method: "POST",
    body: JSON.stringify({ user: input.userName }),
    headers: { "content-type": "application/json" },
  });
  if (!signIn.ok) {
    throw new Error(`sign-in of ${input.userName}: ${signIn.status} ${await signIn.text()}`);
  }
  const { accessToken } = (await signIn.json()) as { accessToken: string };
  const portal = new SSOClient({ endpoint: emulator.endpoint, region: emulator.region, maxAttempts: 1 });
  try {
    const output = await portal.send(
      new GetRoleCredentialsCommand({ accessToken, accountId: input.accountId, roleName: input.roleName }),
    );
    const credentials = output.roleCredentials;
    return new S3Client({
      endpoint: emulator.endpoint,
      region: emulator.region,
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: {
        accessKeyId: credentials?.accessKeyId ?? "",
        secretAccessKey: credentials?.secretAccessKey ?? "",
        ...(credentials?.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
      },
    });
  } finally {
    portal.destroy();
  }
}

/** "read", "refused" (AccessDenied), or the error's name for anything else. */
export async function tryRead(client: S3Client, bucket: string, key: string): Promise<string> {
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await object.Body?.transformToString();
    return "read";
  } catch (error) {
    const name = error instanceof Error ? error.name : String(error);
    return name === "AccessDenied" ? "refused" : name;
  }
}
