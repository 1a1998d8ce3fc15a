// Every command the CLI knows, in the order `keyturn --help` lists them.
import type { Command } from "../command.js";
import { configSet, configShow } from "./config.js";
import { flowsApply } from "./flows-apply.js";
import { flowsList } from "./flows-list.js";
import { flowsPlan } from "./flows-plan.js";

export const COMMANDS: readonly Command[] = [flowsList, flowsPlan, flowsApply, configSet, configShow];
