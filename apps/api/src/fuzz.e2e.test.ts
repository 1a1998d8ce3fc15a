import { useTestDatabase } from "@keyturn/testkit/database";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROBLEM_CODES } from "./http-errors.js";
import {
  adminWithPendingRequest,
  createTestApi,
  expectNoRowChanges,
  flowRules,
  problemOf,
  type TestApi,
} from "./test-support.js";

// The API's inputs fuzzed at the edges of its own OpenAPI document: for every operation, a valid
// request is taken and one place in it (a body field the schema names, a query parameter, a path
// parameter) gets an edge value: control characters, half surrogate pairs, huge or fractional
// numbers (1e400 too, which JSON.parse makes Infinity), deep nesting, unknown keys. Every such
// request must get a 4xx problem with a code the API documents, and change no row of any table.
// Fixed seed and bounded runs, so CI replays the same cases; a failure prints its counterexample.

const SEED = 20261207;
const RUNS = 250;

const database = useTestDatabase();
let api: TestApi;
let admin: string;
let pendingId: string;
let doc: OpenApi;

type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
};
type Operation = {
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
};
type OpenApi = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};

const ACCOUNT = "111122223333";

/** A request the API accepts, per operation: what the fuzzer starts from. */
function baselines(): Record<
  string,
  { path: Record<string, string>; query?: Record<string, string>; body?: unknown }
> {
  return {
    "PUT /v1/flows/{name}": { path: { name: "fuzz-flow" }, body: flowRules() },
    "GET /v1/flows/{name}": { path: { name: "s3-prod" } },
    "POST /v1/requests": {
      path: {},
      body: {
        flow: "s3-prod",
        requesterEmail: "rita@example.com",
        target: { accountId: ACCOUNT, permissionSetName: "S3Access" },
        durationSeconds: 600,
        reason: "INC-1 restore",
        ticket: "INC-1",
      },
    },
    "GET /v1/requests": {
      path: {},
      query: { state: "pending", flow: "s3-prod", requester: "rita@example.com", limit: "10" },
    },
    "GET /v1/requests/{id}": { path: { id: pendingId } },
    "POST /v1/requests/{id}/approve": { path: { id: pendingId }, body: { comment: "ok" } },
    "POST /v1/requests/{id}/deny": { path: { id: pendingId }, body: { comment: "no" } },
    "POST /v1/requests/{id}/override": {
      path: { id: pendingId },
      body: { decision: "deny", comment: "why" },
    },
    "POST /v1/requests/{id}/cancel": { path: { id: pendingId }, body: { asAdmin: true } },
    "POST /v1/requests/{id}/revoke": { path: { id: pendingId }, body: { reason: "done", asAdmin: true } },
    "POST /v1/requests/{id}/extend": { path: { id: pendingId }, body: { additionalSeconds: 600 } },
    "GET /v1/audit/events": { path: {}, query: { action: "request.submitted", limit: "5" } },
    "POST /v1/tokens": {
      path: {},
      body: { name: "fuzzed", ownerKind: "service", owner: "fuzz", scopes: ["requests:read"] },
    },
    "DELETE /v1/tokens/{id}": { path: { id: "00000000-0000-4000-8000-000000000000" } },
    "PUT /v1/buckets/{name}": {
      path: { name: "fuzz-bucket" },
      body: {
        accountId: ACCOUNT,
        capabilities: {
          "administer-resource": [{ roleArn: `arn:aws:iam::${ACCOUNT}:role/Admin` }],
          "read-config": [{ roleArn: `arn:aws:iam::${ACCOUNT}:role/Admin` }],
          "read-data": [{ permissionSet: "S3Access" }],
        },
      },
    },
    "GET /v1/buckets/{name}": { path: { name: "fuzz-bucket" } },
    "POST /v1/buckets/{name}/policy/apply": { path: { name: "fuzz-bucket" }, body: { confirm: true } },
  };
}

function resolve(schema: Schema | undefined): Schema | undefined {
  if (schema?.$ref === undefined) {
    return schema;
  }
  return doc.components.schemas[schema.$ref.replace("#/components/schemas/", "")];
}

/** Every place in a body the schema names (or the baseline has), as key paths; depth-limited. */
function bodyPaths(schema: Schema | undefined, value: unknown, prefix: string[] = [], depth = 0): string[][] {
  const paths: string[][] = prefix.length > 0 ? [prefix] : [];
  if (depth > 5) {
    return paths;
  }
  const resolved = resolve(schema);
  const branches = [
    resolved,
    ...(resolved?.anyOf ?? []),
    ...(resolved?.oneOf ?? []),
    ...(resolved?.allOf ?? []),
  ]
    .map(resolve)
    .filter((s): s is Schema => s !== undefined);
  const keys = new Set<string>();
  for (const branch of branches) {
    for (const key of Object.keys(branch.properties ?? {})) {
      keys.add(key);
    }
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const key of Object.keys(value)) {
      keys.add(key);
    }
  }
  for (const key of keys) {
    const child = branches.map((b) => b.properties?.[key]).find((s) => s !== undefined);
    const childValue = (value as Record<string, unknown> | undefined)?.[key];
    if (Array.isArray(childValue) && childValue.length > 0) {
      paths.push([...prefix, key]);
      paths.push(...bodyPaths(resolve(child)?.items, childValue[0], [...prefix, key, "0"], depth + 1));
    } else {
      paths.push(...bodyPaths(child, childValue, [...prefix, key], depth + 1));
    }
  }
  return paths;
}

/** A copy of `value` with `edge` at `path` (intermediate objects made as needed). */
function placeAt(value: unknown, path: string[], edge: unknown): unknown {
  if (path.length === 0) {
    return edge;
  }
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(value)) {
    const copy = [...value];
    copy[Number(head)] = placeAt(copy[Number(head)], rest, edge);
    return copy;
  }
  const object = value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
  return { ...object, [head]: placeAt(object[head], rest, edge) };
}

// Characters no field may hold: C0 controls but tab/LF/CR, DEL, C1 controls, U+FFFE/U+FFFF.
const forbiddenChar = fc.constantFrom(
  ..."\u0000\u0001\u0007\u0008\u000b\u000c\u000e\u001b\u001f\u007f\u0080\u0085\u009f\ufffe\uffff",
);
const loneSurrogate = fc.oneof(
  fc.integer({ min: 0xd800, max: 0xdbff }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0xdc00, max: 0xdfff }).map((c) => String.fromCharCode(c)),
);
const poisoned = fc
  .tuple(fc.string({ maxLength: 12 }), fc.oneof(forbiddenChar, loneSurrogate), fc.string({ maxLength: 12 }))
  .map(([a, bad, b]) => `${a}${bad}${b}`);
// 1e400 is not a JS number: sent as raw JSON text, which JSON.parse turns into Infinity.
const INFINITE = "__fuzz_1e400__";
const hugeNumber = fc.constantFrom(
  1e308,
  -1e308,
  2 ** 53 + 2,
  2 ** 63,
  -(2 ** 31) - 1,
  0.5,
  -0.000001,
  INFINITE,
);
const deepNesting = fc.tuple(fc.integer({ min: 40, max: 3000 }), fc.boolean()).map(([depth, arrays]) => {
  let nested: unknown = 1;
  for (let i = 0; i < depth; i++) {
    nested = arrays ? [nested] : { a: nested };
  }
  return nested;
});
const edgeValue = fc.oneof(
  { arbitrary: poisoned, weight: 4 },
  { arbitrary: hugeNumber, weight: 2 },
  { arbitrary: deepNesting, weight: 1 },
);
const unknownKey = fc.string({ minLength: 1, maxLength: 10 }).map((k) => `x-${k}`);

type Mutation =
  | { kind: "body"; path: string[]; edge: unknown }
  | { kind: "unknown-key"; path: string[]; key: string }
  | { kind: "query"; name: string; edge: string }
  | { kind: "path"; name: string; edge: string };

type Case = { operation: string; mutation: Mutation };

function cases(): fc.Arbitrary<Case> {
  const all = baselines();
  const arbitraries: fc.Arbitrary<Case>[] = [];
  for (const [operation, base] of Object.entries(all)) {
    const [method = "", route = ""] = operation.split(" ");
    const op = doc.paths[route]?.[method.toLowerCase()];
    expect(op, `${operation} is in the OpenAPI document`).toBeDefined();
    const kinds: fc.Arbitrary<Mutation>[] = [];
    const bodySchema = op?.requestBody?.content["application/json"]?.schema;
    if (base.body !== undefined) {
      const paths = bodyPaths(bodySchema, base.body);
      const objectPaths = [
        [],
        ...paths.filter((p) => {
          const at = p.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], base.body);
          return at !== null && typeof at === "object" && !Array.isArray(at);
        }),
      ];
      kinds.push(
        fc.record({ kind: fc.constant("body" as const), path: fc.constantFrom(...paths), edge: edgeValue }),
        fc.record({
          kind: fc.constant("unknown-key" as const),
          path: fc.constantFrom(...objectPaths),
          key: unknownKey,
        }),
      );
    }
    const query = (op?.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
    if (query.length > 0) {
      kinds.push(
        fc.record({
          kind: fc.constant("query" as const),
          name: fc.oneof(fc.constantFrom(...query), unknownKey),
          edge: fc.oneof(poisoned, fc.constantFrom("1e400", "99999999999999999999999", "-1", "0.5")),
        }),
      );
    }
    const params = (op?.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
    if (params.length > 0) {
      kinds.push(
        fc.record({
          kind: fc.constant("path" as const),
          name: fc.constantFrom(...params),
          edge: fc.oneof(
            poisoned,
            fc.integer({ min: 100, max: 2000 }).map((n) => "z".repeat(n)),
          ),
        }),
      );
    }
    if (kinds.length > 0) {
      arbitraries.push(fc.record({ operation: fc.constant(operation), mutation: fc.oneof(...kinds) }));
    }
  }
  return fc.oneof(...arbitraries);
}

/**
 * Percent-encodes as a client would, except that a lone surrogate, which encodeURIComponent
 * refuses, is sent as the three bytes UTF-8 would give it (bytes a UTF-8 decoder must reject).
 */
function percentEncode(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (char.length === 1 && code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        .map((byte) => `%${byte.toString(16).toUpperCase()}`)
        .join("");
    } else {
      out += encodeURIComponent(char);
    }
  }
  return out;
}

async function send({ operation, mutation }: Case) {
  const base = baselines()[operation];
  if (base === undefined) {
    throw new Error(`no baseline for ${operation}`);
  }
  const [method = "GET", route = ""] = operation.split(" ");
  const params = { ...base.path };
  const query = { ...base.query };
  let body = base.body;
  switch (mutation.kind) {
    case "body":
      body = placeAt(body, mutation.path, mutation.edge);
      break;
    case "unknown-key":
      body = placeAt(body, [...mutation.path, mutation.key], "surprise");
      break;
    case "query":
      query[mutation.name] = mutation.edge;
      break;
    case "path":
      params[mutation.name] = mutation.edge;
      break;
  }
  const search = Object.entries(query)
    .map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`)
    .join("&");
  const url =
    route.replace(/\{(\w+)\}/g, (_, name: string) => percentEncode(params[name] ?? "")) +
    (search === "" ? "" : `?${search}`);
  return api.app.inject({
    method: method as "GET" | "POST" | "PUT" | "DELETE",
    url,
    headers: {
      authorization: `Bearer ${admin}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body).replaceAll(`"${INFINITE}"`, "1e400") }),
  });
}

beforeAll(async () => {
  api = await createTestApi(database.url);
  ({ admin, requestId: pendingId } = await adminWithPendingRequest(api));
  doc = (await api.call("GET", "/docs/json")).json<OpenApi>();
});
afterAll(async () => {
  await api.close();
});

describe("the API's inputs at the edges of its OpenAPI schemas", () => {
  it("every case gets a 4xx problem+json with a documented code and writes nothing", async () => {
    const codes = new Set<string>(PROBLEM_CODES);
    await fc.assert(
      fc.asyncProperty(cases(), async (fuzzCase) => {
        await expectNoRowChanges(api, async () => {
          const response = await send(fuzzCase);
          expect(response.statusCode, response.body).toBeGreaterThanOrEqual(400);
          expect(response.statusCode, response.body).toBeLessThan(500);
          expect(codes.has(problemOf(response).code), response.body).toBe(true);
        });
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  }, 300_000);
});
