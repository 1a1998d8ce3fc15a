import type { FlowRules } from "@keyturn/core";
import type { FlowVersion, Prisma } from "./generated/prisma/client.js";

// The one place where the flow rules JSON column and FlowRules meet. The column only ever holds
// rules putFlow stored after validating them (the API's FlowRulesSchema, then core's
// checkFlowRules), so reading them back is a typed read, not a second validation; everything
// above the database adapter gets FlowRules and casts nothing.

export function flowRulesOf(json: Prisma.JsonValue): FlowRules {
  return json as unknown as FlowRules;
}

export function flowRulesJson(rules: FlowRules): Prisma.InputJsonValue {
  return rules as unknown as Prisma.InputJsonValue;
}

/** A flow version as stored, its rules typed. */
export type StoredFlowVersion = Omit<FlowVersion, "rules"> & { rules: FlowRules };

export function storedFlowVersion(version: FlowVersion): StoredFlowVersion {
  return { ...version, rules: flowRulesOf(version.rules) };
}
