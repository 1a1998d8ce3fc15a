import { call } from "../api-client.js";
import { type Command, emit, flag } from "../command.js";
import { formatTime } from "../format.js";
import { renderTable } from "../output.js";

// Loaded on use, so the policy package costs nothing to the commands that do not render a diff.
const loadRenderer = () => import("@keyturn/bucket-policy");

const bucketParam = (name: string) => ({ params: { path: { name } } });

export const bucketsList: Command = {
  path: ["buckets", "list"],
  summary: "list the buckets whose policy Keyturn manages, with apply and drift state",
  usage: "[--json]",
  examples: ["keyturn buckets list"],
  async run(context) {
    const api = await context.api();
    const { items } = await call(api.GET("/v1/buckets"));
    emit(context, items, () =>
      items.length === 0
        ? "no protected buckets\n"
        : renderTable(items, [
            { header: "name", value: (b) => b.name },
            { header: "account", value: (b) => b.accountId },
            { header: "last applied", value: (b) => formatTime(b.lastAppliedAt) },
            { header: "drift", value: (b) => (b.driftDetected ? "DRIFT" : "no") },
            { header: "drift checked", value: (b) => formatTime(b.lastDriftCheckAt) },
          ]),
    );
    return 0;
  },
};

export const bucketsPlan: Command = {
  path: ["buckets", "plan"],
  summary: "diff a bucket's live policy against the one Keyturn generates (changes nothing)",
  usage: "<bucket> [--drop-foreign] [--exit-code] [--json]",
  examples: ["keyturn buckets plan customer-data", "keyturn buckets plan customer-data --exit-code"],
  options: {
    "drop-foreign": {
      type: "boolean",
      description: "show foreign statements as dropped (as apply --drop-foreign)",
    },
    "exit-code": { type: "boolean", description: "exit 2 when applying would change the policy, 0 when not" },
  },
  positionals: { min: 1, max: 1 },
  async run(context, input) {
    const api = await context.api();
    const view = await call(api.GET("/v1/buckets/{name}/policy", bucketParam(input.positionals[0] ?? "")));
    const dropForeign = flag(input, "drop-foreign");
    const { renderPolicyDiff } = await loadRenderer();
    emit(context, view, () => renderPolicyDiff(view, { dropForeign }));
    const changes = view.changesLive || (dropForeign && view.diff.foreign.length > 0);
    return flag(input, "exit-code") && changes ? 2 : 0;
  },
};

export const bucketsApply: Command = {
  path: ["buckets", "apply"],
  summary: "put the generated policy on a bucket (keeps foreign statements unless --drop-foreign)",
  usage: "<bucket> [--drop-foreign] [--json]",
  description:
    "Shows the plan, then applies it. Idempotent: nothing is sent when the policy already says this.",
  examples: ["keyturn buckets apply customer-data"],
  options: {
    "drop-foreign": { type: "boolean", description: "also remove statements Keyturn did not write" },
  },
  positionals: { min: 1, max: 1 },
  async run(context, input) {
    const bucket = input.positionals[0] ?? "";
    const dropForeign = flag(input, "drop-foreign");
    const api = await context.api();
    const view = await call(api.GET("/v1/buckets/{name}/policy", bucketParam(bucket)));
    const { renderPolicyDiff } = await loadRenderer();
    const applied = await call(
      api.POST("/v1/buckets/{name}/policy/apply", {
        ...bucketParam(bucket),
        body: { confirm: true, dropForeign },
      }),
    );
    emit(
      context,
      applied,
      () =>
        `${renderPolicyDiff(view, { dropForeign })}\n` +
        (applied.put
          ? `applied: PutBucketPolicy sent (${applied.bytes} bytes, hash ${applied.hash.slice(0, 12)})\n`
          : "nothing to apply: the policy already says this\n"),
    );
    return 0;
  },
};
