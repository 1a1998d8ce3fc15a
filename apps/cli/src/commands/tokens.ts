import { call } from "../api-client.js";
import { CliError, usageError } from "../cli-error.js";
import { type Command, emit, flag, stringOption } from "../command.js";
import { formatTime } from "../format.js";
import { renderTable } from "../output.js";

export const tokensList: Command = {
  path: ["tokens", "list"],
  summary: "list API tokens (metadata only; secrets are never shown again)",
  usage: "[--all] [--json]",
  examples: ["keyturn tokens list", "keyturn tokens list --all --json"],
  options: { all: { type: "boolean", description: "include revoked and expired tokens" } },
  async run(context, input) {
    const api = await context.api();
    const { items } = await call(api.GET("/v1/tokens"));
    const now = context.now().toISOString();
    const live = (t: (typeof items)[number]) =>
      t.revokedAt === null && (t.expiresAt === null || t.expiresAt > now);
    const tokens = flag(input, "all") ? items : items.filter(live);
    emit(context, tokens, () =>
      renderTable(tokens, [
        { header: "id", value: (t) => t.id },
        { header: "name", value: (t) => t.name },
        { header: "owner", value: (t) => `${t.owner}${t.ownerKind === "service" ? " (service)" : ""}` },
        { header: "prefix", value: (t) => `${t.prefix}…` },
        { header: "scopes", value: (t) => t.scopes.join(",") },
        { header: "expires", value: (t) => formatTime(t.expiresAt) },
        { header: "last used", value: (t) => formatTime(t.lastUsedAt) },
        {
          header: "state",
          value: (t) => (t.revokedAt !== null ? "revoked" : live(t) ? "active" : "expired"),
        },
      ]),
    );
    return 0;
  },
};

export const tokensCreate: Command = {
  path: ["tokens", "create"],
  summary: "mint an API token (printed once: the token alone on stdout)",
  usage: "--name <name> --scopes <scope,...> [--owner <email|service>] [--service] [--expires <ISO time>]",
  description:
    "A person token is minted for the caller's own person (the API refuses others); --service mints\n" +
    "one for a service name. Nobody hands out a scope they do not hold.",
  examples: [
    "keyturn tokens create --name ci --service --owner ci-bot --scopes flows:admin --expires 2027-06-30T00:00:00Z",
  ],
  options: {
    name: { type: "string", label: "--name <name>", description: "what the token is for" },
    scopes: { type: "string", label: "--scopes <a,b>", description: "comma-separated scopes" },
    owner: {
      type: "string",
      label: "--owner <owner>",
      description: "the person's email, or the service's name",
    },
    service: { type: "boolean", description: "a service token (never reviews requests)" },
    expires: { type: "string", label: "--expires <time>", description: "an ISO 8601 expiry time" },
  },
  async run(context, input) {
    const name = stringOption(input, "name");
    const scopes = stringOption(input, "scopes");
    const owner = stringOption(input, "owner");
    if (name === undefined || scopes === undefined || owner === undefined) {
      throw usageError("--name, --scopes and --owner are required", "tokens create");
    }
    const expires = stringOption(input, "expires");
    if (expires !== undefined && Number.isNaN(Date.parse(expires))) {
      throw usageError(`--expires must be an ISO 8601 time, got '${expires}'`, "tokens create");
    }
    const api = await context.api();
    const common = {
      name,
      owner,
      // The API checks each scope against its list and answers with the valid ones.
      scopes: scopes.split(",").map((s) => s.trim()) as ("flows:admin" | "audit:read")[],
      ...(expires === undefined ? {} : { expiresAt: new Date(expires).toISOString() }),
    };
    const created = await call(
      api.POST("/v1/tokens", {
        body: flag(input, "service")
          ? { ...common, ownerKind: "service" }
          : { ...common, ownerKind: "person" },
      }),
    );
    if (context.json) {
      emit(context, created, () => "");
    } else {
      context.output.out(`${created.token}\n`);
      context.output.err(
        `created token '${created.name}' (${created.prefix}…, id ${created.id}) for ${created.owner}; ` +
          "it is shown once, Keyturn keeps only its hash\n",
      );
    }
    return 0;
  },
};

export const tokensRevoke: Command = {
  path: ["tokens", "revoke"],
  summary: "revoke an API token by id (idempotent); it stops working at once",
  usage: "<token-id> [--json]",
  examples: ["keyturn tokens revoke 3f0c6a52-0d7e-4a8e-9a51-2b0f3f0c6a52"],
  positionals: { min: 1, max: 1 },
  async run(context, input) {
    const id = input.positionals[0] ?? "";
    const api = await context.api();
    const revoked = await call(api.DELETE("/v1/tokens/{id}", { params: { path: { id } } }));
    if (revoked === undefined) {
      throw new CliError(`the API answered the revocation of ${id} with no body`);
    }
    emit(context, revoked, () => `revoked token '${revoked.name}' (${revoked.prefix}…)\n`);
    return 0;
  },
};
