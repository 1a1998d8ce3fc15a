import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testFlowRules } from "@keyturn/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { formatFlowFileProblem, loadFlowDirectory } from "./flow-files.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "keyturn-flow-files-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const problemsOf = async () => {
  const loaded = await loadFlowDirectory(dir);
  return loaded.ok ? [] : loaded.problems.map((p) => formatFlowFileProblem(p).slice(dir.length + 1));
};

describe("loadFlowDirectory", () => {
  it("reads .yaml and .yml files, naming each flow by its name field or else its file", async () => {
    await writeFile(join(dir, "s3-prod.yaml"), stringify(testFlowRules()));
    await writeFile(
      join(dir, "other.yml"),
      stringify({ name: "s3-dev", ...testFlowRules({ title: "Dev" }) }),
    );
    await writeFile(join(dir, "README.md"), "not a flow");
    const loaded = await loadFlowDirectory(dir);
    expect(loaded.ok && loaded.flows.map((f) => [f.name, f.rules.title])).toEqual([
      ["s3-dev", "Dev"],
      ["s3-prod", "S3 data"],
    ]);
  });

  it("points a missing nested field at its parent's line, and a wrong type at the value's", async () => {
    const text = stringify({
      ...testFlowRules(),
      extensions: { maxCount: 0, maxExtensionSeconds: 0 },
      autoApprove: "no",
    });
    await writeFile(join(dir, "f.yaml"), text);
    const line = (key: string) => text.split("\n").findIndex((l) => l.startsWith(key)) + 1;
    expect(await problemsOf()).toEqual([
      `f.yaml:${line("autoApprove:")}: autoApprove: Invalid input: expected boolean, received string`,
      `f.yaml:${line("extensions:") + 1}: extensions.requiresApproval: Invalid input: expected boolean, received undefined`,
    ]);
  });

  it("refuses two files defining one flow, a file that is not a mapping, and an empty directory", async () => {
    expect(await problemsOf()).toEqual([" holds no .yaml or .yml flow files"]);
    await writeFile(join(dir, "a.yaml"), stringify({ name: "same", ...testFlowRules() }));
    await writeFile(join(dir, "b.yaml"), stringify({ name: "same", ...testFlowRules() }));
    await writeFile(join(dir, "c.yaml"), "- just\n- a list\n");
    expect(await problemsOf()).toEqual([
      `b.yaml: name: flow 'same' is also defined in ${join(dir, "a.yaml")}`,
      "c.yaml: must be a YAML mapping of a flow's fields",
    ]);
  });
});
