// Flows as code through the built CLI against the real API: plan shows, apply makes it so, a second
// plan shows nothing; broken files are named by file, line and field and nothing is applied.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliHarness, startCliHarness } from "./testing/test-support.js";

const database = useTestDatabase();
let cli: CliHarness;
let root: string;

// Line numbers below count from here: `title` is line 1.
const flowYaml = (
  options: { title?: string; maxDuration?: number; accountId?: string; extra?: string } = {},
) =>
  `title: ${options.title ?? "S3 data, development"}
targets:
  - accountId: "${options.accountId ?? "111122223333"}"
    permissionSetName: S3Access
requesters:
  - kind: anyone
approvers:
  - kind: email
    email: ann@example.com
approvalsRequired: 1
selfApproval: false
autoApprove: false
breakGlass: false
defaultDurationSeconds: 3600
maxDurationSeconds: ${options.maxDuration ?? 7200}
reason:
  required: true
ticket:
  required: false
pendingTimeoutSeconds: 3600
extensions:
  maxCount: 0
  maxExtensionSeconds: 0
  requiresApproval: false
${options.extra ?? ""}`;

async function flowDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(root, "flows-"));
  for (const [name, text] of Object.entries(files)) {
    await writeFile(join(dir, name), text);
  }
  return dir;
}

const flowState = async () => ({
  flows: await cli.prisma.flow.findMany({ orderBy: { name: "asc" } }),
  versions: await cli.prisma.flowVersion.count(),
  audit: await cli.prisma.auditEvent.count(),
});

beforeAll(async () => {
  cli = await startCliHarness({ databaseUrl: database.url });
  root = await mkdtemp(join(tmpdir(), "keyturn-flows-"));
  await mkdir(root, { recursive: true });
});
afterAll(async () => {
  await cli?.close();
  await rm(root, { recursive: true, force: true });
});

describe("keyturn flows plan / apply", () => {
  it("plan shows a creation (exit 2 with --exit-code), apply makes it, a second plan and apply change nothing", async () => {
    const dir = await flowDir({
      "s3-dev.yaml": flowYaml(),
      "s3-stage.yml": `name: s3-stage\n${flowYaml({ title: "Stage" })}`,
    });

    const plan = await cli.run(["flows", "plan", dir, "--exit-code"]);
    expect(plan.stderr).toBe("");
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain(`+ s3-dev: create (${join(dir, "s3-dev.yaml")})`);
    expect(plan.stdout).toContain("+ s3-stage: create");
    expect(plan.stdout).toContain("Plan: 2 to create, 0 to change, 0 to archive, 0 unchanged.");
    expect(await cli.prisma.flow.count()).toBe(0);

    const apply = await cli.run(["flows", "apply", dir]);
    expect(apply.stderr).toBe("");
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain("s3-dev: created (version 1)");
    expect(apply.stdout).toContain("s3-stage: created (version 1)");
    const listed = await cli.run(["flows", "list", "--json"]);
    expect(
      listed.json<{ name: string; rules: { title: string } }[]>().map((f) => [f.name, f.rules.title]),
    ).toEqual([
      ["s3-dev", "S3 data, development"],
      ["s3-stage", "Stage"],
    ]);

    const before = await flowState();
    const again = await cli.run(["flows", "plan", dir, "--exit-code"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("= s3-dev: unchanged (version 1)");
    expect(again.stdout).toContain("Plan: 0 to create, 0 to change, 0 to archive, 2 unchanged.");
    const reapplied = await cli.run(["flows", "apply", dir]);
    expect(reapplied.code).toBe(0);
    expect(reapplied.stdout).toBe("No changes: the flows match the directory.\n");
    expect(await flowState()).toEqual(before);
  });

  it("plan names each changed field with old → new; apply makes a new version; --json parses", async () => {
    const dir = await flowDir({ "s3-dev.yaml": flowYaml({ maxDuration: 14_400, title: "S3 dev" }) });
    const plan = await cli.run(["flows", "plan", dir, "--exit-code"]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain("~ s3-dev: change (version 1 → 2)");
    expect(plan.stdout).toContain("    maxDurationSeconds: 7200 → 14400");
    expect(plan.stdout).toContain('    title: "S3 data, development" → "S3 dev"');
    // s3-stage has no file here: kept, and said so.
    expect(plan.stdout).toContain("Not in the directory (kept; --prune archives them): s3-stage");

    const json = await cli.run(["flows", "plan", dir, "--json"]);
    expect(json.code).toBe(0);
    expect(json.json()).toMatchObject({
      changes: [
        {
          name: "s3-dev",
          action: "change",
          version: 1,
          fields: [
            { field: "maxDurationSeconds", old: 7200, new: 14_400 },
            { field: "title", old: "S3 data, development", new: "S3 dev" },
          ],
        },
      ],
      unmanaged: ["s3-stage"],
    });

    const apply = await cli.run(["flows", "apply", dir, "--json"]);
    expect(apply.code).toBe(0);
    expect(apply.json()).toMatchObject({ applied: [{ name: "s3-dev", action: "changed", version: 2 }] });
    expect((await cli.run(["flows", "plan", dir, "--exit-code"])).code).toBe(0);
  });

  it("--prune archives a live flow with no file; without it nothing is archived", async () => {
    const dir = await flowDir({ "s3-dev.yaml": flowYaml({ maxDuration: 14_400, title: "S3 dev" }) });
    const plan = await cli.run(["flows", "plan", dir, "--prune", "--exit-code"]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain("- s3-stage: archive (no file; --prune)");
    expect(plan.stdout).toContain("Plan: 0 to create, 0 to change, 1 to archive, 1 unchanged.");
    expect((await cli.prisma.flow.findUniqueOrThrow({ where: { name: "s3-stage" } })).archivedAt).toBeNull();

    const apply = await cli.run(["flows", "apply", dir, "--prune"]);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain("s3-stage: archived (version 1)");
    expect(
      (await cli.prisma.flow.findUniqueOrThrow({ where: { name: "s3-stage" } })).archivedAt,
    ).not.toBeNull();
    expect(await cli.prisma.auditEvent.count({ where: { action: "flow.archived" } })).toBe(1);
    const listed = await cli.run(["flows", "list", "--json"]);
    expect(listed.json<{ name: string }[]>().map((f) => f.name)).toEqual(["s3-dev"]);
    expect((await cli.run(["flows", "plan", dir, "--prune", "--exit-code"])).code).toBe(0);
  });
});

describe("a token that may read flows but not change them", () => {
  it("plans, but apply fails in one line with the API's code and changes nothing", async () => {
    const { token } = await cli.token(["requests:read"]);
    const dir = await flowDir({ "s3-new.yaml": flowYaml() });
    const plan = await cli.run(["flows", "plan", dir, "--exit-code"], { env: { KEYTURN_TOKEN: token } });
    expect(plan.code).toBe(2);
    const before = await flowState();
    const apply = await cli.run(["flows", "apply", dir], { env: { KEYTURN_TOKEN: token } });
    expect(apply.code).toBe(1);
    expect(apply.stdout).toBe("");
    expect(apply.stderr).toBe(
      "keyturn: INSUFFICIENT_SCOPE: this token lacks scope 'flows:admin' (HTTP 403)\n",
    );
    expect(await flowState()).toEqual(before);
  });
});

describe("invalid flow files: file, line and field, and nothing applied", () => {
  const expectNothingApplied = async (files: Record<string, string>, expected: unknown[]) => {
    const dir = await flowDir({
      // A valid change next to the broken file: it must not be applied either.
      "s3-dev.yaml": flowYaml({ maxDuration: 28_800 }),
      ...files,
    });
    const before = await flowState();
    for (const command of ["plan", "apply"]) {
      const result = await cli.run(
        ["flows", command, dir, "--exit-code"].slice(0, command === "plan" ? 4 : 3),
      );
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      const lines = result.stderr.trimEnd().split("\n");
      // Each problem line starts with the file's path in the directory given.
      expect(lines.slice(0, -1).every((line) => line.startsWith(`${dir}/`))).toBe(true);
      expect(lines.slice(0, -1).map((line) => line.slice(dir.length + 1))).toEqual(expected);
      expect(lines.at(-1)).toMatch(new RegExp(`^keyturn: \\d+ problems? in ${dir}; nothing was applied$`));
    }
    expect(await flowState()).toEqual(before);
  };

  it("a field with a bad value", async () => {
    await expectNothingApplied({ "bad-account.yaml": flowYaml({ accountId: "12" }) }, [
      "bad-account.yaml:3: targets[0].accountId: must be a 12-digit AWS account id",
    ]);
  });

  it("--json prints the problems as data (and still exits 1)", async () => {
    const dir = await flowDir({ "bad-account.yaml": flowYaml({ accountId: "12" }) });
    const result = await cli.run(["flows", "plan", dir, "--json"]);
    expect(result.code).toBe(1);
    expect(result.json()).toEqual({
      problems: [
        {
          file: join(dir, "bad-account.yaml"),
          line: 3,
          field: "targets[0].accountId",
          message: "must be a 12-digit AWS account id",
        },
      ],
    });
  });

  it("an unknown field, and a missing one", async () => {
    const missing = flowYaml().replace("selfApproval: false\n", "");
    await expectNothingApplied(
      { "extra.yaml": flowYaml({ extra: "approverz: []\n" }), "missing.yaml": missing },
      [
        "extra.yaml:25: approverz: is not a flow field",
        "missing.yaml:1: selfApproval: Invalid input: expected boolean, received undefined",
      ],
    );
  });

  it("rules inconsistent with each other (core's checks)", async () => {
    await expectNothingApplied({ "too-long.yaml": flowYaml({ maxDuration: 1800 }) }, [
      "too-long.yaml:14: defaultDurationSeconds: must not exceed maxDurationSeconds",
    ]);
  });

  it("YAML syntax errors and bad names", async () => {
    await expectNothingApplied({ "broken.yaml": `${flowYaml()}reason: [\n`, "Bad_Name.yaml": flowYaml() }, [
      "Bad_Name.yaml:1: name: the file name (without .yaml) is the flow's name and must be 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit",
      "broken.yaml:25: YAML: Map keys must be unique",
      "broken.yaml:26: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ]);
  });
});
