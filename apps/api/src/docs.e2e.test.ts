import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "./test-support.js";

const database = useTestDatabase();
let api: TestApi;

beforeAll(async () => {
  api = await createTestApi(database.url);
});
afterAll(async () => {
  await api.close();
});

type Operation = {
  security?: Record<string, string[]>[];
  responses?: Record<string, unknown>;
  summary?: string;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, unknown>;
};

/**
 * Fastify's own route list, read from printRoutes' tree: each level is indented by four columns
 * and holds the path segment below its parent, followed by its methods.
 */
function registeredRoutes(tree: string): { method: string; url: string }[] {
  const routes: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of tree.split("\n")) {
    const match = /^(.*?)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (match === null) {
      continue;
    }
    const depth = (match[1] ?? "").length / 4;
    stack.length = depth;
    const url = `${stack.at(-1) ?? ""}${match[2]}`.replace(/\/+/g, "/");
    stack.push(url);
    for (const method of (match[3] ?? "").split(",").map((m) => m.trim())) {
      if (method !== "") {
        routes.push({ method, url });
      }
    }
  }
  return routes;
}

describe("OpenAPI at /docs", () => {
  it("GET /docs serves the Swagger UI", async () => {
    const response = await api.call("GET", "/docs");
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/text\/html/);
  });

  it("GET /docs/json documents every registered route, each /v1 one with its bearer scopes", async () => {
    const response = await api.call("GET", "/docs/json");
    expect(response.statusCode).toBe(200);
    const doc = response.json<Document>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components).toMatchObject({ securitySchemes: { bearer: { type: "http", scheme: "bearer" } } });

    const registered = registeredRoutes(api.app.printRoutes({ commonPrefix: false }))
      // HEAD mirrors GET, and the documentation's own pages are not part of the API.
      .filter((r) => r.method !== "HEAD" && !r.url.startsWith("/docs"))
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, "{$1}")}`)
      .sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      )
      .sort();
    expect(registered.length).toBe(33);
    expect(documented).toEqual(registered);

    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(operation.summary, `${method} ${path}`).toEqual(expect.any(String));
        if (path.startsWith("/v1/cli/sign-ins")) {
          // `keyturn login` starts without a token: explicitly none.
          expect(operation.security, `${method} ${path}`).toEqual([]);
        } else if (path.startsWith("/v1/") && !path.startsWith("/v1/webhooks/")) {
          // (The ticket webhooks are authenticated by the provider's signature, not by a token.)
          expect(operation.security, `${method} ${path}`).toEqual([{ bearer: expect.any(Array) }]);
          expect(operation.security?.[0]?.bearer?.length).toBeGreaterThan(0);
        } else {
          expect(operation.security, `${method} ${path}`).toBeUndefined();
        }
      }
    }
    expect(doc.paths["/v1/requests/{id}/approve"]?.post?.responses?.["4XX"]).toEqual({
      description: expect.any(String),
      content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
    });
    expect(doc.components).toMatchObject({
      schemas: {
        Problem: { properties: { code: { enum: expect.arrayContaining(["ALREADY_DECIDED", "INTERNAL"]) } } },
      },
    });
    expect(doc.paths["/v1/requests/{id}/override"]?.post?.security).toEqual([{ bearer: ["flows:admin"] }]);
    expect(doc.paths["/v1/flows"]?.get?.security).toEqual([
      { bearer: ["requests:read", "requests:self", "flows:admin"] },
    ]);
  });
});
