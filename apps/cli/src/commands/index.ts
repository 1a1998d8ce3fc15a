// Every command the CLI knows, in the order `keyturn --help` lists them.
import type { Command } from "../command.js";
import { access } from "./access.js";
import { auditExport, auditVerify } from "./audit.js";
import { bucketsApply, bucketsList, bucketsPlan } from "./buckets.js";
import { configSet, configShow } from "./config.js";
import { flowsApply } from "./flows-apply.js";
import { flowsList } from "./flows-list.js";
import { flowsPlan } from "./flows-plan.js";
import { tokensCreate, tokensList, tokensRevoke } from "./tokens.js";

export const COMMANDS: readonly Command[] = [
  flowsList,
  flowsPlan,
  flowsApply,
  bucketsList,
  bucketsPlan,
  bucketsApply,
  access,
  auditVerify,
  auditExport,
  tokensList,
  tokensCreate,
  tokensRevoke,
  configSet,
  configShow,
];
