// The CLI skeleton against the real API: the checked-in OpenAPI document matches what the API
// serves, settings come from the environment or a private config file, and failures are one line.
import { readFile, stat } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { testFlowRules } from "@keyturn/testkit";
import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "./commands/index.js";
import { OPENAPI_DOCUMENT } from "./testing/paths.js";
import { type CliHarness, startCliHarness } from "./testing/test-support.js";

const database = useTestDatabase();
let cli: CliHarness;

async function putFlow(name: string, title: string): Promise<void> {
  const response = await fetch(`${cli.api.url}/v1/flows/${name}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${cli.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(testFlowRules({ title })),
  });
  expect(response.status).toBeLessThan(300);
}

beforeAll(async () => {
  cli = await startCliHarness({ databaseUrl: database.url });
  await putFlow("s3-prod", "S3 data, production");
});
afterAll(async () => {
  await cli?.close();
});

describe("the generated client's contract", () => {
  it("apps/cli/openapi.json is the document the API serves (regenerate with `pnpm --filter @keyturn/cli openapi`)", async () => {
    const served = await (await fetch(`${cli.api.url}/docs/json`)).json();
    const committed = JSON.parse(await readFile(OPENAPI_DOCUMENT, "utf8"));
    expect(committed).toEqual(served);
  });
});

describe("keyturn flows list", () => {
  it("--json prints the flows as a JSON array", async () => {
    const result = await cli.run(["flows", "list", "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const flows = result.json<{ name: string; rules: { title: string } }[]>();
    expect(flows.map((f) => [f.name, f.rules.title])).toEqual([["s3-prod", "S3 data, production"]]);
  });

  it("prints a table by default", async () => {
    const result = await cli.run(["flows", "list"]);
    expect(result.code).toBe(0);
    const [header, row, ...rest] = result.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^NAME\s+VERSION\s+TITLE\s+TARGETS/);
    expect(row).toMatch(/^s3-prod\s+1\s+S3 data, production\s+111122223333\/S3Access/);
    expect(rest).toEqual([]);
  });
});

describe("settings", () => {
  it("config set stores URL and token in a 0600 file in a 0700 directory, and commands use them", async () => {
    const set = await cli.run(["config", "set", "--api-url", cli.api.url, "--token-stdin"], {
      input: `${cli.adminToken}\n`,
      env: { KEYTURN_API_URL: undefined, KEYTURN_TOKEN: undefined },
    });
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    const file = join(cli.configDirectory, "config.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(cli.configDirectory)).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ apiUrl: cli.api.url, token: cli.adminToken });

    const listed = await cli.run(["flows", "list", "--json"], {
      env: { KEYTURN_API_URL: undefined, KEYTURN_TOKEN: undefined },
    });
    expect(listed.code).toBe(0);
    expect(listed.json<{ name: string }[]>().map((f) => f.name)).toEqual(["s3-prod"]);

    const shown = await cli.run(["config", "show", "--json"]);
    expect(shown.json()).toMatchObject({ apiUrl: cli.api.url, token: `${cli.adminToken.slice(0, 12)}…` });
    expect(shown.stdout).not.toContain(cli.adminToken);
  });

  it("without any token it says to run keyturn login, and exits 1", async () => {
    const result = await cli.run(["flows", "list"], {
      env: { KEYTURN_TOKEN: undefined, XDG_CONFIG_HOME: join(cli.home, "empty") },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "keyturn: not signed in: run 'keyturn login' to sign in, or set KEYTURN_TOKEN\n",
    );
  });
});

describe("errors", () => {
  it("a revoked token gets the API's problem in one line, with its code and a pointer to keyturn login", async () => {
    const { id, token } = await cli.token(["flows:admin"]);
    await cli.revoke(id);
    const result = await cli.run(["flows", "list"], { env: { KEYTURN_TOKEN: token } });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "keyturn: UNAUTHENTICATED: the API token is unknown, revoked or expired (HTTP 401); " +
        "run 'keyturn login' to sign in again\n",
    );
  });

  it("a token lacking the scope gets INSUFFICIENT_SCOPE in one line", async () => {
    const { token } = await cli.token(["audit:read"]);
    const result = await cli.run(["flows", "list"], { env: { KEYTURN_TOKEN: token } });
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^keyturn: INSUFFICIENT_SCOPE: .*flows:admin.*\(HTTP 403\)\n$/);
  });

  it("an unreachable API is one line naming the cause", async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const result = await cli.run(["flows", "list"], { env: { KEYTURN_API_URL: `http://127.0.0.1:${port}` } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^keyturn: cannot reach the Keyturn API \(ECONNREFUSED\)/);
  });

  it("an unknown command or option exits 2 with a pointer to --help", async () => {
    const unknown = await cli.run(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("keyturn: unknown command 'frobnicate' (see 'keyturn --help')\n");
    const option = await cli.run(["flows", "list", "--colour"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(
      /^keyturn: Unknown option '--colour'.*\(see 'keyturn flows list --help'\)\n$/,
    );
  });
});

describe("--help", () => {
  it.each(COMMANDS.map((c) => c.path.join(" ")))(
    "keyturn %s --help shows usage and an example",
    async (name) => {
      const result = await cli.run([...name.split(" "), "--help"]);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: keyturn ${name}`);
      expect(result.stdout).toMatch(/Examples?:\n {2}\$ keyturn /);
      expect(result.stdout).toContain("--json");
    },
  );

  it("keyturn --help lists every command", async () => {
    const result = await cli.run(["--help"]);
    expect(result.code).toBe(0);
    for (const command of COMMANDS) {
      expect(result.stdout).toContain(command.path.join(" "));
    }
  });
});
