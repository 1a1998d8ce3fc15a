// Dependencies point one way (DESIGN.md, house-style.md): core <- usecases <- adapters <- apps.
// Checked on the resolved files, so a workspace import (`@keyturn/db`) counts as packages/db.
// Test code is exempt: an adapter's integration test may set up state with another adapter.
const TEST = "(\\.test\\.ts$|/test-helpers\\.ts$|/test-support\\.ts$|-harness\\.ts$|/testing/)";
const ADAPTERS = "(aws|db|slack|queue|integrations|observability|config)";

module.exports = {
  forbidden: [
    {
      name: "no-unresolvable",
      comment: "An import the cruiser cannot resolve would escape every rule below.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: "pure-packages-import-no-workspace-package",
      comment: "core and bucket-policy are pure: they depend on no other workspace package.",
      severity: "error",
      from: { path: "^packages/(core|bucket-policy)/src/", pathNot: TEST },
      to: { path: "^(packages|apps)/", pathNot: "^packages/$1/" },
    },
    {
      name: "usecases-import-only-pure-packages",
      comment:
        "usecases sees the domain (core) and the policy engine (bucket-policy), and declares ports for the rest.",
      severity: "error",
      from: { path: "^packages/usecases/src/", pathNot: TEST },
      to: { path: "^(packages|apps)/", pathNot: "^packages/(usecases|core|bucket-policy)/" },
    },
    {
      name: "adapters-do-not-import-each-other",
      comment: "An adapter reaches another only through the use-case ports it implements or consumes.",
      severity: "error",
      from: { path: `^packages/${ADAPTERS}/src/`, pathNot: TEST },
      to: { path: `^packages/${ADAPTERS}/`, pathNot: "^packages/$1/" },
    },
    {
      name: "only-db-touches-prisma",
      comment: "Prisma is the database adapter's detail: everyone else calls its query functions.",
      severity: "error",
      from: { path: "^(packages|apps)/", pathNot: "^packages/db/" },
      to: { path: "@prisma/|^packages/db/src/generated/" },
    },
    {
      name: "packages-do-not-import-apps",
      severity: "error",
      from: { path: "^packages/" },
      to: { path: "^apps/" },
    },
    {
      name: "apps-do-not-import-each-other",
      severity: "error",
      from: { path: "^apps/([^/]+)/", pathNot: TEST },
      to: { path: "^apps/", pathNot: "^apps/$1/" },
    },
    {
      name: "app-tests-use-other-apps-only-through-their-testing-support",
      comment: "The demo's test drives the CLI as a process through the CLI's own test support.",
      severity: "error",
      from: { path: "^apps/([^/]+)/", pathNot: "^apps/[^/]+/src/testing/" },
      to: { path: "^apps/", pathNot: "^apps/($1/|[^/]+/src/testing/)" },
    },
    {
      name: "testkit-only-in-tests",
      comment: "testkit is for tests; only the local launcher may start its emulators (DESIGN.md).",
      severity: "error",
      from: { path: "^(packages|apps)/", pathNot: `${TEST}|^apps/local/|^packages/testkit/` },
      to: { path: "^packages/testkit/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|generated|dist)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".json"],
    },
  },
};
