export * from "./aws-emulator/index.js";
export { testFlowRules } from "./flow-rules.js";
export * from "./slack-fake/index.js";
