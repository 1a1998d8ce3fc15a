import { z } from "zod";
import { PROBLEM_CODES } from "../http-errors.js";

export const ProblemSchema = z
  .object({
    type: z.url(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(PROBLEM_CODES).meta({ description: "Stable error code; switch on this, not on detail" }),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details (application/problem+json)" });
