import type { DriftRepository, ManagedTarget } from "@keyturn/usecases";
import { flowRulesOf } from "./flow-rules.js";
import type { Tx } from "./prisma-types.js";

export function createDriftRepository(tx: Tx, ids: { uuid(): string }): DriftRepository {
  return {
    async managedTargets() {
      const flows = await tx.flow.findMany({ where: { archivedAt: null } });
      const versions = await tx.flowVersion.findMany({
        where: { OR: flows.map((f) => ({ flowName: f.name, version: f.currentVersion })) },
      });
      // A target in several flows is only removed from when every one of them says "remove".
      const targets = new Map<string, ManagedTarget>();
      for (const version of versions) {
        const rules = flowRulesOf(version.rules);
        for (const target of rules.targets) {
          const key = `${target.accountId}/${target.permissionSetName}`;
          const drift = rules.drift ?? "report";
          const seen = targets.get(key);
          targets.set(key, {
            ...target,
            drift:
              seen === undefined
                ? drift
                : seen.drift === "remove" && drift === "remove"
                  ? "remove"
                  : "report",
          });
        }
      }
      return [...targets.values()].sort((a, b) =>
        `${a.accountId}/${a.permissionSetName}`.localeCompare(`${b.accountId}/${b.permissionSetName}`),
      );
    },
    async knownPrincipals({ accountId, permissionSetName }) {
      const rows = await tx.assignment.findMany({
        where: {
          accountId,
          permissionSetName,
          // Keyturn's own unless its removal was confirmed: one that is back after that was put
          // there by someone else, outside any lease.
          OR: [
            { origin: "preexisting" },
            { provisionIntentAt: { not: null }, observedPresent: null },
            { provisionIntentAt: { not: null }, observedPresent: true },
          ],
          identity: { identityStoreUserId: { not: null } },
        },
        select: { identity: { select: { identityStoreUserId: true } } },
      });
      return new Set(
        rows.flatMap((r) =>
          r.identity.identityStoreUserId === null ? [] : [r.identity.identityStoreUserId],
        ),
      );
    },
    async recordFinding({ accountId, permissionSetName, principalType, principalId, at }) {
      const key = { accountId, permissionSetName, principalType, principalId };
      const existing = await tx.driftFinding.findUnique({
        where: { accountId_permissionSetName_principalType_principalId: key },
      });
      if (existing === null) {
        await tx.driftFinding.create({ data: { id: ids.uuid(), ...key, firstSeenAt: at, lastSeenAt: at } });
        return { isNew: true };
      }
      // A finding that was resolved and came back is new again: someone re-granted it.
      await tx.driftFinding.update({
        where: { id: existing.id },
        data: {
          lastSeenAt: at,
          resolvedAt: null,
          removedByKeyturn: false,
          ...(existing.resolvedAt === null ? {} : { firstSeenAt: at }),
        },
      });
      return { isNew: existing.resolvedAt !== null };
    },
    async markRemoved({ accountId, permissionSetName, principalType, principalId, at }) {
      await tx.driftFinding.update({
        where: {
          accountId_permissionSetName_principalType_principalId: {
            accountId,
            permissionSetName,
            principalType,
            principalId,
          },
        },
        data: { resolvedAt: at, removedByKeyturn: true },
      });
    },
    async resolveUnseen({ accountId, permissionSetName, seen, at }) {
      const resolved = await tx.driftFinding.updateMany({
        where: { accountId, permissionSetName, resolvedAt: null, principalId: { notIn: seen } },
        data: { resolvedAt: at },
      });
      return resolved.count;
    },
  };
}
