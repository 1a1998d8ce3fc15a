import { describeTextProblem, textProblem } from "@keyturn/core";
import type { FastifyInstance } from "fastify";
import { type FieldError, HttpProblem } from "../http-errors.js";

// No route's input is deeper than this; a body that is deeper is refused before validation walks it.
const MAX_DEPTH = 32;

type Finding = FieldError;

function findUnstorable(value: unknown, path: string, depth: number): Finding | null {
  if (typeof value === "string") {
    const problem = textProblem(value, { multiline: true });
    return problem === null ? null : { path, message: describeTextProblem(problem) };
  }
  if (value === null || typeof value !== "object") {
    return null;
  }
  if (depth >= MAX_DEPTH) {
    return { path, message: `is nested too deeply (at most ${MAX_DEPTH} levels)` };
  }
  const entries = Array.isArray(value) ? value.entries() : Object.entries(value);
  for (const [key, item] of entries) {
    const at = `${path}.${String(key)}`;
    if (typeof key === "string") {
      const problem = textProblem(key);
      if (problem !== null) {
        return { path: `${path}.<key>`, message: `key ${describeTextProblem(problem)}` };
      }
    }
    const found = findUnstorable(item, at, depth + 1);
    if (found !== null) {
      return found;
    }
  }
  return null;
}

/**
 * Every string a client sends, in any field of the body, the query or the path, must be text
 * Keyturn can store and show: no NUL or control characters, no half surrogate pairs (PostgreSQL
 * refuses the first, jsonb the second; both would otherwise surface as a 500 after a transaction
 * began). Checked once for every /v1 route, before its schema, so a new field is covered too.
 */
export function registerInputGuard(scope: FastifyInstance): void {
  scope.addHook("preValidation", async (request) => {
    for (const [context, value] of [
      ["params", request.params],
      ["querystring", request.query],
      ["body", request.body],
    ] as const) {
      const found = findUnstorable(value, context, 0);
      if (found !== null) {
        throw new HttpProblem("VALIDATION_FAILED", `invalid ${context}: ${found.path}: ${found.message}`, {
          errors: [found],
        });
      }
    }
  });
}
