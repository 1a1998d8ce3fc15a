// Every command the CLI knows, in the order `keyturn --help` lists them.
import type { Command } from "../command.js";
import { configSet, configShow } from "./config.js";
import { flowsList } from "./flows-list.js";

export const COMMANDS: readonly Command[] = [flowsList, configSet, configShow];
