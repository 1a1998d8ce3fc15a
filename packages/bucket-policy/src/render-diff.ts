// Text rendering of a bucket-policy diff for the CLIs (`keyturn buckets plan` and the API's
// bucket-policy command): one line per statement, and a line diff of the pretty-printed JSON for
// the statements that change. Plain data in (the API's BucketPolicyView shape), text out.

type Statement = Readonly<Record<string, unknown>>;

export type PolicyDiffView = {
  bucket: string;
  /** Applying (keeping foreign statements unless dropped) would change the live policy. */
  changesLive: boolean;
  toApply: { bytes: number };
  diff: {
    added: readonly { sid: string; statement: Statement }[];
    removed: readonly { sid: string; statement: Statement }[];
    changed: readonly { sid: string; live: Statement; generated: Statement }[];
    unchanged: readonly string[];
    foreign: readonly { index: number; sid: string | null; statement: Statement }[];
  };
  drift: { detected: boolean; expectedHash: string | null; lastAppliedAt: string | null };
  sessionCutoffs: readonly { identityStoreUserId: string; until: string }[];
};

export function renderPolicyDiff(view: PolicyDiffView, options: { dropForeign: boolean }): string {
  const { drift, bucket } = view;
  const { added, removed, changed, unchanged, foreign } = view.diff;
  const lines: string[] = [];
  const foreignNote =
    foreign.length === 0 ? "" : `, ${foreign.length} foreign (${options.dropForeign ? "dropped" : "kept"})`;
  lines.push(
    `bucket ${bucket}: ${added.length} to add, ${changed.length} to change, ${removed.length} to remove, ${unchanged.length} unchanged${foreignNote}`,
  );
  if (drift.detected) {
    const since = drift.lastAppliedAt === null ? "" : ` (applied ${drift.lastAppliedAt})`;
    lines.push(`DRIFT: the live policy differs from the one Keyturn last applied${since}`);
  } else if (drift.expectedHash === null) {
    lines.push("Keyturn has not applied a policy to this bucket yet");
  }
  if (view.sessionCutoffs.length > 0) {
    const users = view.sessionCutoffs.map((c) => `${c.identityStoreUserId} until ${c.until}`).join(", ");
    lines.push(`session cut-offs in force: ${users}`);
  }
  for (const { sid, statement } of added) {
    lines.push("", `+ ${sid}`, ...indent(pretty(statement), "+ "));
  }
  for (const { sid, live, generated } of changed) {
    lines.push("", `~ ${sid}`, ...lineDiff(pretty(live), pretty(generated)));
  }
  for (const { sid, statement } of removed) {
    lines.push("", `- ${sid}`, ...indent(pretty(statement), "- "));
  }
  for (const { sid, index, statement } of foreign) {
    const name = sid ?? `statement #${index}`;
    const fate = options.dropForeign ? "will be DROPPED" : "kept as is";
    lines.push(
      "",
      `! foreign ${name} (not written by Keyturn; ${fate})`,
      ...indent(pretty(statement), options.dropForeign ? "- " : "  "),
    );
  }
  lines.push(
    "",
    view.changesLive
      ? `applying would put ${view.toApply.bytes} bytes (S3 allows 20480).`
      : "in sync: applying would change nothing.",
  );
  return `${lines.join("\n")}\n`;
}

function pretty(statement: Statement): string[] {
  return JSON.stringify(statement, null, 2).split("\n");
}

function indent(lines: readonly string[], prefix: string): string[] {
  return lines.map((line) => `    ${prefix}${line}`);
}

/** A longest-common-subsequence line diff: `-` live only, `+` generated only, ` ` both. */
export function lineDiff(before: readonly string[], after: readonly string[]): string[] {
  const rows = before.length + 1;
  const cols = after.length + 1;
  const common: number[] = new Array(rows * cols).fill(0);
  const at = (i: number, j: number) => common[i * cols + j] ?? 0;
  for (let i = before.length - 1; i >= 0; i--) {
    for (let j = after.length - 1; j >= 0; j--) {
      common[i * cols + j] =
        before[i] === after[j] ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1));
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    if (i < before.length && j < after.length && before[i] === after[j]) {
      out.push(`      ${before[i]}`);
      i++;
      j++;
    } else if (j < after.length && (i >= before.length || at(i, j + 1) >= at(i + 1, j))) {
      out.push(`    + ${after[j]}`);
      j++;
    } else {
      out.push(`    - ${before[i]}`);
      i++;
    }
  }
  return out;
}
