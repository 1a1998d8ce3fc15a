import { DescribeUserCommand, GetUserIdCommand } from "@aws-sdk/client-identitystore";
import { err, type IdentityCenterUser, ok, type Result } from "@keyturn/usecases";
import { awsErrorMember, awsErrorName } from "./errors.js";
import type { IdentityCenterContext } from "./identity-center-context.js";
import type { InstanceMetadata } from "./identity-center-metadata.js";

// Identity Store users: who an email is (by email and by user name, both always asked), and
// whether a pinned user still exists.

export function createUserLookups(ctx: IdentityCenterContext, metadata: InstanceMetadata) {
  const { identityStore, call } = ctx;
  const { instance } = metadata;

  async function userIdBy(
    identityStoreId: string,
    attributePath: "emails.value" | "userName",
    value: string,
  ): Promise<string | undefined> {
    return call(
      "GetUserId",
      "read",
      async () => {
        const output = await identityStore.send(
          new GetUserIdCommand({
            IdentityStoreId: identityStoreId,
            AlternateIdentifier: { UniqueAttribute: { AttributePath: attributePath, AttributeValue: value } },
          }),
        );
        return output.UserId;
      },
      // A missing user is an answer; a missing identity store is a configuration error and thrown.
      (error) =>
        awsErrorName(error) === "ResourceNotFoundException" &&
        awsErrorMember(error, "ResourceType") !== "IDENTITY_STORE"
          ? { value: undefined }
          : undefined,
    );
  }

  async function findUserByEmail(email: string): Promise<Result<IdentityCenterUser>> {
    const { identityStoreId } = await instance();
    const wanted = email.trim();
    // Both lookups always run: a user whose user name is someone else's email would otherwise be
    // matched silently to whichever lookup happened to run first.
    const [byEmail, byUserName] = await Promise.all([
      userIdBy(identityStoreId, "emails.value", wanted),
      userIdBy(identityStoreId, "userName", wanted),
    ]);
    if (byEmail !== undefined && byUserName !== undefined && byEmail !== byUserName) {
      return err(
        "IDENTITY_AMBIGUOUS",
        `"${wanted}" matches two IAM Identity Center users: the email of one (${byEmail}) and the user name of another (${byUserName}). Ask an Identity Center administrator to make it unique, or have a Keyturn admin pin the identity to the right user.`,
        { emailUserId: byEmail, userNameUserId: byUserName },
      );
    }
    const userId = byEmail ?? byUserName;
    if (userId === undefined) {
      return err(
        "IDENTITY_NOT_FOUND",
        `No IAM Identity Center user has the email or user name "${wanted}". Ask an Identity Center administrator to add this address to your user (or use the email your Identity Center user has).`,
      );
    }
    const user = await call("DescribeUser", "read", () =>
      identityStore.send(new DescribeUserCommand({ IdentityStoreId: identityStoreId, UserId: userId })),
    );
    return ok({ userId, userName: user.UserName ?? wanted });
  }

  async function userExists(userId: string): Promise<boolean> {
    const { identityStoreId } = await instance();
    return call(
      "DescribeUser",
      "read",
      async () => {
        await identityStore.send(
          new DescribeUserCommand({ IdentityStoreId: identityStoreId, UserId: userId }),
        );
        return true;
      },
      // A missing user is the answer asked for; a missing identity store is a configuration error.
      (error) =>
        awsErrorName(error) === "ResourceNotFoundException" &&
        awsErrorMember(error, "ResourceType") !== "IDENTITY_STORE"
          ? { value: false }
          : undefined,
    );
  }

  return { findUserByEmail, userExists };
}
