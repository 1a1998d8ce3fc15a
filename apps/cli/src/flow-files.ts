// Flows as code: a directory of YAML files, one flow per file, validated with the API's own schema
// (@keyturn/flow-schema) and core's consistency rules before anything is sent, every problem
// pointing at its file, line and field.
import { readdir, readFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { checkFlowRules, type FlowRules } from "@keyturn/core";
import { FlowNameSchema, FlowRulesSchema } from "@keyturn/flow-schema";
import { type Document, isMap, isNode, isPair, isScalar, LineCounter, parseDocument } from "yaml";

export type LocalFlow = { name: string; file: string; rules: FlowRules };

export type FlowFileProblem = {
  file: string;
  /** 1-based; null when the problem is the file as a whole (unreadable, empty). */
  line: number | null;
  /** "targets[0].accountId"; null for a YAML syntax error. */
  field: string | null;
  message: string;
};

export function formatFlowFileProblem(problem: FlowFileProblem): string {
  const where = problem.line === null ? problem.file : `${problem.file}:${problem.line}`;
  return problem.field === null
    ? `${where}: ${problem.message}`
    : `${where}: ${problem.field}: ${problem.message}`;
}

type PathSegment = string | number;

function fieldName(path: readonly PathSegment[]): string {
  return path.reduce<string>(
    (name, segment) =>
      typeof segment === "number" ? `${name}[${segment}]` : name === "" ? segment : `${name}.${segment}`,
    "",
  );
}

/** core reports paths as "targets[0]" or "reason.pattern". */
function parsePath(path: string): PathSegment[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) =>
    m[2] === undefined ? (m[1] ?? "") : Number(m[2]),
  );
}

/**
 * The line of the deepest YAML node on `path` that exists (a missing field points at its parent),
 * or of `key` itself inside that node when given (an unknown key).
 */
function lineOf(doc: Document, lines: LineCounter, path: readonly PathSegment[], key?: string): number {
  let offset = doc.contents && isNode(doc.contents) ? (doc.contents.range?.[0] ?? 0) : 0;
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range !== undefined && node.range !== null) {
      offset = node.range[0];
      if (key !== undefined && depth === path.length && isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === key);
        if (pair !== undefined && isScalar(pair.key) && pair.key.range) {
          offset = pair.key.range[0];
        }
      }
      break;
    }
  }
  return lines.linePos(offset).line;
}

function checkFile(file: string, text: string): { flow?: LocalFlow; problems: FlowFileProblem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((error) => ({
        file,
        line: error.linePos?.[0]?.line ?? null,
        field: null,
        message: `YAML: ${(error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "")}`,
      })),
    };
  }
  const value: unknown = doc.toJS();
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      problems: [{ file, line: null, field: null, message: "must be a YAML mapping of a flow's fields" }],
    };
  }
  const { name: nameField, ...fields } = value as Record<string, unknown>;
  const problems: FlowFileProblem[] = [];
  const name = nameField ?? basename(file, extname(file));
  const checkedName = FlowNameSchema.safeParse(name);
  if (!checkedName.success) {
    problems.push({
      file,
      line: lineOf(doc, lines, nameField === undefined ? [] : ["name"]),
      field: "name",
      message: `${nameField === undefined ? "the file name (without .yaml) is the flow's name and " : ""}${
        checkedName.error.issues[0]?.message ?? "is not a flow name"
      }`,
    });
  }
  const parsed = FlowRulesSchema.safeParse(fields);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.filter((s): s is PathSegment => typeof s !== "symbol");
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          problems.push({
            file,
            line: lineOf(doc, lines, path, key),
            field: fieldName([...path, key]),
            message: "is not a flow field",
          });
        }
      } else {
        problems.push({
          file,
          line: lineOf(doc, lines, path),
          field: fieldName(path) || "(flow)",
          message: issue.message,
        });
      }
    }
    return { problems };
  }
  for (const problem of checkFlowRules(parsed.data)) {
    const path = parsePath(problem.path);
    problems.push({ file, line: lineOf(doc, lines, path), field: problem.path, message: problem.message });
  }
  if (problems.length > 0 || !checkedName.success) {
    return { problems };
  }
  return { flow: { name: checkedName.data, file, rules: parsed.data }, problems };
}

/** Every *.yaml / *.yml file directly in `directory`, checked; the flows only when all are valid. */
export async function loadFlowDirectory(
  directory: string,
): Promise<{ ok: true; flows: LocalFlow[] } | { ok: false; problems: FlowFileProblem[] }> {
  let entries: string[];
  try {
    entries = (await readdir(directory, { withFileTypes: true }))
      .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch (error) {
    return {
      ok: false,
      problems: [
        {
          file: directory,
          line: null,
          field: null,
          message: `cannot read the directory: ${(error as Error).message}`,
        },
      ],
    };
  }
  const flows: LocalFlow[] = [];
  const problems: FlowFileProblem[] = [];
  for (const entry of entries) {
    const file = join(directory, entry);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      problems.push({ file, line: null, field: null, message: `cannot read: ${(error as Error).message}` });
      continue;
    }
    const checked = checkFile(file, text);
    problems.push(...checked.problems);
    if (checked.flow !== undefined) {
      const twin = flows.find((f) => f.name === checked.flow?.name);
      if (twin !== undefined) {
        problems.push({
          file,
          line: null,
          field: "name",
          message: `flow '${twin.name}' is also defined in ${twin.file}`,
        });
      } else {
        flows.push(checked.flow);
      }
    }
  }
  if (entries.length === 0 && problems.length === 0) {
    problems.push({ file: directory, line: null, field: null, message: "holds no .yaml or .yml flow files" });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, flows };
}
