export * from "./aws-emulator/index.js";
export * from "./slack-fake/index.js";
