import type { FlowRules } from "@keyturn/core";
import type { Flow, FlowVersion } from "@keyturn/db";
import { FlowRulesSchema } from "@keyturn/flow-schema";
import { z } from "zod";
import { iso } from "./common.js";

export const FlowViewSchema = z
  .object({
    name: z.string(),
    version: z.number().int(),
    archivedAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    versionCreatedAt: z.string(),
    versionCreatedBy: z.string(),
    rules: FlowRulesSchema,
  })
  .meta({ id: "Flow", description: "A flow's current version" });

export type FlowViewJson = z.infer<typeof FlowViewSchema>;

export function toFlowViewJson(view: { flow: Flow; version: FlowVersion }): FlowViewJson {
  return {
    name: view.flow.name,
    version: view.version.version,
    archivedAt: iso(view.flow.archivedAt),
    createdAt: view.flow.createdAt.toISOString(),
    updatedAt: view.flow.updatedAt.toISOString(),
    versionCreatedAt: view.version.createdAt.toISOString(),
    versionCreatedBy: view.version.createdBy,
    // Stored only after validation by the same schema, so the JSON column holds FlowRules.
    rules: view.version.rules as unknown as FlowRules,
  };
}
