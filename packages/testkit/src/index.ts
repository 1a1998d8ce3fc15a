export * from "./aws-emulator/index.js";
