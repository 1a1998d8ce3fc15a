// Every command the CLI knows, in the order `keyturn --help` lists them.
import type { Command } from "../command.js";
import { access } from "./access.js";
import { auditExport, auditVerify } from "./audit.js";
import { bucketsApply, bucketsList, bucketsPlan } from "./buckets.js";
import { configSet, configShow } from "./config.js";
import { credentials, profile } from "./credentials.js";
import { flowsApply } from "./flows-apply.js";
import { flowsList } from "./flows-list.js";
import { flowsMine } from "./flows-mine.js";
import { flowsPlan } from "./flows-plan.js";
import { login, logout } from "./login.js";
import { cancel, extend, revoke, status } from "./my-requests.js";
import { request } from "./request.js";
import { tokensCreate, tokensList, tokensRevoke } from "./tokens.js";

export const COMMANDS: readonly Command[] = [
  // The requester's path.
  login,
  logout,
  flowsMine,
  request,
  status,
  extend,
  revoke,
  cancel,
  credentials,
  profile,
  // The admin's.
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
