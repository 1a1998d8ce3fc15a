// The difference between the flow files and the flows the API runs: what `flows plan` shows and
// `flows apply` does. Pure.
import { canonicalJson, type FlowRules } from "@keyturn/core";
import type { LocalFlow } from "./flow-files.js";

export type RemoteFlow = { name: string; version: number; archivedAt: string | null; rules: FlowRules };

export type FieldChange = { field: string; old: unknown; new: unknown };

export type FlowChange =
  | { name: string; action: "create"; file: string; rules: FlowRules }
  /** An archived flow whose file is back: applying un-archives it (as a new version). */
  | {
      name: string;
      action: "restore";
      file: string;
      rules: FlowRules;
      version: number;
      fields: FieldChange[];
    }
  | { name: string; action: "change"; file: string; rules: FlowRules; version: number; fields: FieldChange[] }
  | { name: string; action: "archive"; version: number }
  | { name: string; action: "unchanged"; file: string; version: number };

export type FlowPlan = {
  changes: FlowChange[];
  /** Live flows with no file, left alone because --prune was not given. */
  unmanaged: string[];
};

/** Top-level fields that differ (as the API compares them: canonical JSON). */
export function changedFields(before: FlowRules, after: FlowRules): FieldChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const old = before as Record<string, unknown>;
  const next = after as Record<string, unknown>;
  return keys
    .filter((key) => canonicalJson(old[key] ?? null) !== canonicalJson(next[key] ?? null))
    .map((key) => ({ field: key, old: old[key] ?? null, new: next[key] ?? null }));
}

export function planFlows(
  local: readonly LocalFlow[],
  remote: readonly RemoteFlow[],
  prune: boolean,
): FlowPlan {
  const byName = new Map(remote.map((flow) => [flow.name, flow]));
  const changes: FlowChange[] = [];
  for (const flow of local) {
    const live = byName.get(flow.name);
    if (live === undefined) {
      changes.push({ name: flow.name, action: "create", file: flow.file, rules: flow.rules });
      continue;
    }
    const fields = changedFields(live.rules, flow.rules);
    if (live.archivedAt !== null) {
      changes.push({ ...flow, action: "restore", version: live.version, fields });
    } else if (fields.length > 0) {
      changes.push({ ...flow, action: "change", version: live.version, fields });
    } else {
      changes.push({ name: flow.name, action: "unchanged", file: flow.file, version: live.version });
    }
  }
  const named = new Set(local.map((f) => f.name));
  const orphans = remote.filter((f) => !named.has(f.name) && f.archivedAt === null);
  if (prune) {
    changes.push(...orphans.map((f) => ({ name: f.name, action: "archive" as const, version: f.version })));
  }
  changes.sort((a, b) => a.name.localeCompare(b.name));
  return { changes, unmanaged: prune ? [] : orphans.map((f) => f.name).sort() };
}

export function hasChanges(plan: FlowPlan): boolean {
  return plan.changes.some((c) => c.action !== "unchanged");
}

function short(value: unknown): string {
  return value === null ? "(unset)" : JSON.stringify(value);
}

export function renderPlan(plan: FlowPlan): string {
  const lines: string[] = [];
  for (const change of plan.changes) {
    switch (change.action) {
      case "create":
        lines.push(`+ ${change.name}: create (${change.file})`);
        break;
      case "restore":
      case "change":
        lines.push(
          `~ ${change.name}: ${change.action === "restore" ? "restore from archive" : "change"} (version ${change.version} → ${change.version + 1})`,
          ...change.fields.map((f) => `    ${f.field}: ${short(f.old)} → ${short(f.new)}`),
        );
        break;
      case "archive":
        lines.push(`- ${change.name}: archive (no file; --prune)`);
        break;
      case "unchanged":
        lines.push(`= ${change.name}: unchanged (version ${change.version})`);
        break;
    }
  }
  const count = (action: FlowChange["action"]) => plan.changes.filter((c) => c.action === action).length;
  const restored = count("restore");
  lines.push(
    "",
    `Plan: ${count("create")} to create, ${count("change")} to change, ${restored > 0 ? `${restored} to restore, ` : ""}` +
      `${count("archive")} to archive, ${count("unchanged")} unchanged.`,
  );
  if (plan.unmanaged.length > 0) {
    lines.push(`Not in the directory (kept; --prune archives them): ${plan.unmanaged.join(", ")}`);
  }
  return `${lines.join("\n")}\n`;
}
