// The flow's wire schema, shared by the API (which validates every PUT with it) and the CLI (which
// validates flow files with it before sending anything). No I/O: safe to bundle into the CLI.
export { FlowNameSchema, FlowRulesSchema, FlowTargetSchema, SecondsSchema } from "./flow-rules.js";
