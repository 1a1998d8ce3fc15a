import type { IdentityCenter } from "./identity-center.js";
import type { Deps } from "./ports.js";
import { SYSTEM } from "./principal.js";

export type DriftFindingReport = {
  accountId: string;
  permissionSetName: string;
  principalType: "USER" | "GROUP";
  principalId: string;
  isNew: boolean;
  removed: boolean;
};

/**
 * Lists the assignments of every permission set Keyturn manages and reports those it neither
 * granted nor found preexisting — the way an Identity Center admin would grant themselves the data
 * role. New findings are audited once; flows that say so have them removed (users only: removing
 * a group assignment would cut people Keyturn knows nothing about, so groups are reported).
 */
export async function scanDrift(
  deps: Deps & { identityCenter: IdentityCenter },
): Promise<{ findings: DriftFindingReport[]; targets: number }> {
  const targets = await deps.uow.run((tx) => tx.drift.managedTargets());
  const findings: DriftFindingReport[] = [];
  for (const target of targets) {
    const known = await deps.uow.run((tx) => tx.drift.knownPrincipals(target));
    const present = await deps.identityCenter.listAssignments(target);
    const strangers = present.filter((a) => !known.has(a.principalId));
    for (const stranger of strangers) {
      const at = deps.clock.now();
      const key = { accountId: target.accountId, permissionSetName: target.permissionSetName, ...stranger };
      const { isNew } = await deps.uow.run(async (tx) => {
        const recorded = await tx.drift.recordFinding({ ...key, at });
        if (recorded.isNew) {
          await tx.audit.append({
            actor: SYSTEM,
            action: "drift.detected",
            data: { ...key, policy: target.drift },
          });
        }
        return recorded;
      });
      let removed = false;
      if (target.drift === "remove" && stranger.principalType === "USER") {
        const outcome = await deps.identityCenter.deleteAssignment({
          ...target,
          principalId: stranger.principalId,
        });
        removed = outcome.status === "SUCCEEDED";
        await deps.uow.run(async (tx) => {
          if (removed) {
            await tx.drift.markRemoved({ ...key, at: deps.clock.now() });
          }
          await tx.audit.append({
            actor: SYSTEM,
            action: removed ? "drift.removed" : "drift.remove_failed",
            data: {
              ...key,
              awsRequestId: outcome.requestId,
              ...(outcome.status === "FAILED" ? { failureReason: outcome.failureReason } : {}),
            },
          });
        });
      }
      findings.push({ ...key, isNew, removed });
    }
    const seen = strangers
      .filter((s) => !findings.some((f) => f.principalId === s.principalId && f.removed))
      .map((s) => s.principalId);
    await deps.uow.run((tx) => tx.drift.resolveUnseen({ ...target, seen, at: deps.clock.now() }));
  }
  return { findings, targets: targets.length };
}
