import { call, type Schemas } from "../api-client.js";
import { type Command, emit } from "../command.js";
import { formatTime } from "../format.js";
import { renderTable } from "../output.js";

type Principal = Schemas["PolicyPrincipal"];
type Row = {
  capability: string;
  principal: string;
  who: string;
  until: string;
  status: string;
  note: string;
};

function principalName(principal: Principal): string {
  switch (principal.kind) {
    case "permission-set":
      return `permission set ${principal.name} (${principal.accountId})`;
    case "arn":
    case "session":
      return principal.arn;
    case "pattern":
      return principal.pattern;
    case "account":
      return `account ${principal.accountId}`;
    case "anyone":
      return "anyone (*)";
    case "anonymous":
      return "anonymous";
  }
}

/** One row per person (or principal) that can touch the data, per capability. */
function accessRows(report: Schemas["BucketAccessReport"]): Row[] {
  const rows: Row[] = [];
  for (const { capability, grants, openThroughIdentityPolicies, undetermined } of report.capabilities) {
    for (const grant of grants) {
      const principal = principalName(grant.principal);
      const note = grant.extra ? `extra: ${grant.grantedBy.join(",")}` : grant.grantedBy.join(",");
      if (grant.holders === null) {
        rows.push({ capability, principal, who: "-", until: "-", status: "granted", note });
      } else if (grant.holders.length === 0) {
        rows.push({ capability, principal, who: "(nobody now)", until: "-", status: "granted", note });
      } else {
        for (const holder of grant.holders) {
          rows.push({
            capability,
            principal,
            who: holder.email,
            until: holder.until === null ? "-" : formatTime(holder.until),
            status: holder.source === "lease" ? "lease" : "preexisting",
            note,
          });
        }
      }
    }
    for (const principal of openThroughIdentityPolicies) {
      rows.push({
        capability,
        principal: principalName(principal),
        who: "-",
        until: "-",
        status: "open via identity policies",
        note: "the bucket policy does not deny it",
      });
    }
    for (const entry of undetermined) {
      rows.push({
        capability,
        principal: principalName(entry.principal),
        who: "-",
        until: "-",
        status: "undetermined",
        note: entry.statements.map((s) => `${s.statement}: ${s.reason}`).join("; "),
      });
    }
  }
  return rows;
}

export const access: Command = {
  path: ["access"],
  summary: "who can touch a protected bucket's data now (the effective-access report)",
  usage: "<bucket> [--json]",
  description:
    'Rows marked "undetermined" are cases AWS\'s documented rules do not decide: Keyturn does not guess.',
  examples: ["keyturn access customer-data", "keyturn access customer-data --json"],
  positionals: { min: 1, max: 1 },
  async run(context, input) {
    const bucket = input.positionals[0] ?? "";
    const api = await context.api();
    const report = await call(api.GET("/v1/buckets/{name}/access", { params: { path: { name: bucket } } }));
    const rows = accessRows(report);
    emit(context, report, () => {
      const table = renderTable(rows, [
        { header: "capability", value: (r) => r.capability },
        { header: "principal", value: (r) => r.principal },
        { header: "who", value: (r) => r.who },
        { header: "until", value: (r) => r.until },
        { header: "status", value: (r) => r.status },
        { header: "why", value: (r) => r.note },
      ]);
      const unanalyzed = report.unanalyzed.map((u) => `not analyzed: ${u.statement}: ${u.reason}\n`).join("");
      const policy = report.policyPresent ? "" : "the bucket has no policy: access is whatever IAM allows\n";
      return `bucket ${report.bucket} at ${formatTime(report.at)}\n${policy}${table}${unanalyzed}`;
    });
    return 0;
  },
};
