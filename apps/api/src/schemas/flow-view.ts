import type { Flow, StoredFlowVersion } from "@keyturn/db";
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

export function toFlowViewJson(view: { flow: Flow; version: StoredFlowVersion }): FlowViewJson {
  return {
    name: view.flow.name,
    version: view.version.version,
    archivedAt: iso(view.flow.archivedAt),
    createdAt: view.flow.createdAt.toISOString(),
    updatedAt: view.flow.updatedAt.toISOString(),
    versionCreatedAt: view.version.createdAt.toISOString(),
    versionCreatedBy: view.version.createdBy,
    rules: view.version.rules,
  };
}
