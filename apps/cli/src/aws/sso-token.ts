// The person's IAM Identity Center access token, as the AWS CLI keeps it: ~/.aws/sso/cache/
// <sha1 of the sso-session name, or of the start URL>.json. Read from there when it is still good;
// otherwise obtained through the SSO OIDC device flow (the person confirms a code in the browser)
// and written back in the AWS CLI's format, so `aws` and keyturn share one sign-in.
import { createHash } from "node:crypto";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CliError } from "../cli-error.js";

export type SsoSettings = { startUrl: string; region: string; session?: string };

/** A token with less than this left is not used: the role-credential call must not race its end. */
const MIN_TOKEN_LIFE_MS = 60_000;
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

type CachedToken = {
  startUrl: string;
  region: string;
  accessToken: string;
  expiresAt: string;
  clientId?: string;
  clientSecret?: string;
  registrationExpiresAt?: string;
};

function ssoCachePath(home: string, settings: SsoSettings): string {
  const key = createHash("sha1")
    .update(settings.session ?? settings.startUrl, "utf8")
    .digest("hex");
  return join(home, ".aws", "sso", "cache", `${key}.json`);
}

async function readCached(path: string): Promise<CachedToken | null> {
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as Partial<CachedToken>;
    return typeof parsed.accessToken === "string" && typeof parsed.expiresAt === "string"
      ? (parsed as CachedToken)
      : null;
  } catch {
    return null;
  }
}

async function writeCached(path: string, token: CachedToken): Promise<void> {
  const directory = join(path, "..");
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await chmod(directory, 0o700);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(token, null, 2), { mode: 0o600 });
  await rename(temporary, path);
}

/** Forgets a token Identity Center refused, so the next run signs in again. */
export async function forgetSsoToken(home: string, settings: SsoSettings): Promise<void> {
  const path = ssoCachePath(home, settings);
  const cached = await readCached(path);
  if (cached !== null) {
    await writeCached(path, { ...cached, accessToken: "", expiresAt: new Date(0).toISOString() });
  }
}

/**
 * The access token for `settings`: from the AWS CLI's cache while it has time left, else through
 * the device flow, telling the person (on stderr) where to confirm which code.
 */
export async function ssoAccessToken(
  settings: SsoSettings,
  io: { home: string; now(): Date; say(line: string): void },
): Promise<string> {
  const path = ssoCachePath(io.home, settings);
  const cached = await readCached(path);
  if (
    cached !== null &&
    cached.accessToken !== "" &&
    Date.parse(cached.expiresAt) - io.now().getTime() > MIN_TOKEN_LIFE_MS
  ) {
    return cached.accessToken;
  }
  const oidc = await import("@aws-sdk/client-sso-oidc");
  const client = new oidc.SSOOIDCClient({ region: settings.region });
  try {
    // A registration is good for 90 days: reuse the cached one while it lasts, as the AWS CLI does.
    let clientId = cached?.clientId;
    let clientSecret = cached?.clientSecret;
    let registrationExpiresAt = cached?.registrationExpiresAt;
    if (
      clientId === undefined ||
      clientSecret === undefined ||
      registrationExpiresAt === undefined ||
      Date.parse(registrationExpiresAt) <= io.now().getTime() + MIN_TOKEN_LIFE_MS
    ) {
      const registered = await client.send(
        new oidc.RegisterClientCommand({ clientName: "keyturn-cli", clientType: "public" }),
      );
      clientId = registered.clientId ?? "";
      clientSecret = registered.clientSecret ?? "";
      registrationExpiresAt = new Date((registered.clientSecretExpiresAt ?? 0) * 1000).toISOString();
    }
    const device = await client.send(
      new oidc.StartDeviceAuthorizationCommand({ clientId, clientSecret, startUrl: settings.startUrl }),
    );
    io.say(
      `Sign in to AWS IAM Identity Center: open ${device.verificationUriComplete ?? device.verificationUri} ` +
        `and confirm the code ${device.userCode}\n`,
    );
    let intervalMs = (device.interval ?? 1) * 1000;
    const deadline = io.now().getTime() + (device.expiresIn ?? 600) * 1000;
    for (;;) {
      await sleep(intervalMs);
      try {
        const token = await client.send(
          new oidc.CreateTokenCommand({
            clientId,
            clientSecret,
            grantType: DEVICE_GRANT,
            deviceCode: device.deviceCode,
          }),
        );
        const accessToken = token.accessToken ?? "";
        await writeCached(path, {
          startUrl: settings.startUrl,
          region: settings.region,
          accessToken,
          expiresAt: new Date(io.now().getTime() + (token.expiresIn ?? 0) * 1000).toISOString(),
          clientId,
          clientSecret,
          registrationExpiresAt,
        });
        return accessToken;
      } catch (error) {
        if (error instanceof oidc.AuthorizationPendingException && io.now().getTime() < deadline) {
          continue;
        }
        if (error instanceof oidc.SlowDownException) {
          intervalMs += 5_000;
          continue;
        }
        if (error instanceof oidc.AccessDeniedException) {
          throw new CliError("the AWS sign-in was denied in the browser");
        }
        if (
          error instanceof oidc.ExpiredTokenException ||
          error instanceof oidc.AuthorizationPendingException
        ) {
          throw new CliError("the AWS sign-in code expired before it was confirmed; run the command again");
        }
        throw new CliError(`AWS IAM Identity Center sign-in failed: ${(error as Error).message}`);
      }
    }
  } finally {
    client.destroy();
  }
}
