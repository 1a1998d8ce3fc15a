import {
  DescribePermissionSetCommand,
  ListInstancesCommand,
  ListPermissionSetsCommand,
} from "@aws-sdk/client-sso-admin";
import { AppError } from "@keyturn/usecases";
import type { IdentityCenterContext } from "./identity-center-context.js";
import { parseIsoDurationSeconds } from "./iso-duration.js";
import { nextToken, pages } from "./pages.js";
import type { CallKind } from "./rate-limiter.js";

// The Identity Center instance and the permission sets, looked up once and cached for the life of
// the adapter (a set's name never changes; a set deleted and recreated gets a new ARN).

export type Instance = { instanceArn: string; identityStoreId: string };
export type PermissionSetInfo = { name: string; arn: string; sessionDurationSeconds: number };

const DEFAULT_SESSION_DURATION = "PT1H";

// The instance and the permission sets are looked up once per process, and every removal needs
// them first: held back as reads behind a burst of removals, they would stall this process's
// removals until other processes' had all gone out.
const METADATA: CallKind = "removal";

export type InstanceMetadata = ReturnType<typeof createInstanceMetadata>;

export function createInstanceMetadata(ctx: IdentityCenterContext) {
  const { ssoAdmin, call, options } = ctx;

  let instancePromise: Promise<Instance> | undefined;

  async function lookUpInstance(): Promise<Instance> {
    const { instanceArn, identityStoreId } = options;
    if (instanceArn !== undefined && identityStoreId !== undefined) {
      return { instanceArn, identityStoreId };
    }
    const listed = pages((token) =>
      call("ListInstances", METADATA, () =>
        ssoAdmin.send(new ListInstancesCommand({ MaxResults: 100, ...nextToken(token) })),
      ),
    );
    for await (const page of listed) {
      for (const instance of page.Instances ?? []) {
        const matches =
          (instanceArn === undefined || instance.InstanceArn === instanceArn) &&
          (identityStoreId === undefined || instance.IdentityStoreId === identityStoreId);
        if (matches && instance.InstanceArn !== undefined && instance.IdentityStoreId !== undefined) {
          return { instanceArn: instance.InstanceArn, identityStoreId: instance.IdentityStoreId };
        }
      }
    }
    const wanted = instanceArn ?? identityStoreId;
    throw new AppError(
      "IDENTITY_CENTER_NOT_CONFIGURED",
      wanted === undefined
        ? `No IAM Identity Center instance is enabled in ${options.region}: enable Identity Center or configure the instance ARN and region.`
        : `IAM Identity Center instance ${wanted} was not found in ${options.region}: check the configured instance ARN, identity store id and region.`,
      { retryable: false },
    );
  }

  function instance(): Promise<Instance> {
    // Cached for the life of the adapter; a failed lookup is forgotten so the next call retries.
    instancePromise ??= lookUpInstance().catch((error: unknown) => {
      instancePromise = undefined;
      throw error;
    });
    return instancePromise;
  }

  // ---- permission sets -----------------------------------------------------------------------

  const setsByName = new Map<string, PermissionSetInfo>();
  const setsByArn = new Map<string, PermissionSetInfo>();
  let scan: Promise<void> | undefined;

  async function describePermissionSet(instanceArn: string, arn: string): Promise<PermissionSetInfo> {
    const output = await call("DescribePermissionSet", METADATA, () =>
      ssoAdmin.send(new DescribePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn })),
    );
    const name = output.PermissionSet?.Name;
    const duration = output.PermissionSet?.SessionDuration ?? DEFAULT_SESSION_DURATION;
    const sessionDurationSeconds = parseIsoDurationSeconds(duration);
    if (name === undefined || sessionDurationSeconds === undefined) {
      throw new AppError(
        "AWS_UNEXPECTED_RESPONSE",
        `DescribePermissionSet returned no name or an unreadable SessionDuration (${duration}) for ${arn}`,
        { retryable: false },
      );
    }
    return { name, arn, sessionDurationSeconds };
  }

  async function scanPermissionSets(): Promise<void> {
    const { instanceArn } = await instance();
    const found: PermissionSetInfo[] = [];
    const listed = pages((token) =>
      call("ListPermissionSets", METADATA, () =>
        ssoAdmin.send(
          new ListPermissionSetsCommand({ InstanceArn: instanceArn, MaxResults: 100, ...nextToken(token) }),
        ),
      ),
    );
    for await (const page of listed) {
      // Sets are immutable in name, so an ARN described once is not described again; the limiter
      // paces the parallel describes.
      const described = await Promise.all(
        (page.PermissionSets ?? []).map(
          (arn) => setsByArn.get(arn) ?? describePermissionSet(instanceArn, arn),
        ),
      );
      found.push(...described);
    }
    setsByName.clear();
    setsByArn.clear();
    for (const set of found) {
      setsByName.set(set.name, set);
      setsByArn.set(set.arn, set);
    }
  }

  async function permissionSetInfo(name: string): Promise<PermissionSetInfo> {
    const cached = setsByName.get(name);
    if (cached !== undefined) {
      return cached;
    }
    // Concurrent misses share one scan instead of listing the sets once each.
    scan ??= scanPermissionSets().finally(() => {
      scan = undefined;
    });
    await scan;
    const found = setsByName.get(name);
    if (found === undefined) {
      throw new AppError(
        "PERMISSION_SET_NOT_FOUND",
        `Permission set "${name}" does not exist in IAM Identity Center: check the flow's target or create the set.`,
        { retryable: false },
      );
    }
    return found;
  }

  /**
   * Runs `run` with the set's cached ARN. A ResourceNotFound may mean the set was deleted and
   * recreated (same name, new ARN), so the entry is dropped and the call tried once more with a
   * fresh lookup, which also turns "the set is gone" into PERMISSION_SET_NOT_FOUND.
   */
  async function withPermissionSetArn<T>(name: string, run: (arn: string) => Promise<T>): Promise<T> {
    const first = await permissionSetInfo(name);
    try {
      return await run(first.arn);
    } catch (error) {
      if (!(error instanceof AppError && error.code === "AWS_RESOURCE_NOT_FOUND")) {
        throw error;
      }
      if (setsByName.get(name)?.arn === first.arn) {
        setsByName.delete(name);
      }
      setsByArn.delete(first.arn);
      options.logger?.debug(
        { permissionSet: name, arn: first.arn },
        "permission set ARN not found; re-resolving",
      );
      const second = await permissionSetInfo(name);
      return run(second.arn);
    }
  }

  return {
    instance,
    permissionSetInfo,
    withPermissionSetArn,
    /** Whether the ARN is one of the sets last listed. */
    knowsArn: (arn: string) => setsByArn.has(arn),
    /** Drops the cached set of `name` if it still has `arn`, so the next lookup lists the sets again. */
    forgetName: (name: string, arn: string) => {
      if (setsByName.get(name)?.arn === arn) {
        setsByName.delete(name);
      }
    },
  };
}
