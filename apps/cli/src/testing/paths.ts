import { fileURLToPath } from "node:url";

export const CLI_BUNDLE = fileURLToPath(new URL("../../dist/keyturn.mjs", import.meta.url));
export const BUILD_SCRIPT = fileURLToPath(new URL("../../scripts/build.mjs", import.meta.url));
export const OPENAPI_DOCUMENT = fileURLToPath(new URL("../../openapi.json", import.meta.url));
