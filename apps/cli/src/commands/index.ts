// Every command the CLI knows, in the order `keyturn --help` lists them.
import type { Command } from "../command.js";
import { configSet, configShow } from "./config.js";
import { credentials, profile } from "./credentials.js";
import { flowsList } from "./flows-list.js";
import { flowsMine } from "./flows-mine.js";
import { login, logout } from "./login.js";
import { cancel, extend, revoke, status } from "./my-requests.js";
import { request } from "./request.js";

export const COMMANDS: readonly Command[] = [
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
  flowsList,
  configSet,
  configShow,
];
