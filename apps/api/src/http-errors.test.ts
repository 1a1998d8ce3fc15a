import { describe, expect, it } from "vitest";
import { HttpProblem, PROBLEM_CODES, useCaseProblem } from "./http-errors.js";

describe("the code -> status table", () => {
  it("gives every code a status, and a 5xx only to our own or a provider's failure", () => {
    const fiveHundreds = PROBLEM_CODES.filter((code) => new HttpProblem(code, "x").status >= 500).sort();
    // TICKET_UNCHECKED: the ticket provider could not be asked (503: try again), never the
    // client's fault and never a pass.
    expect(fiveHundreds).toEqual([
      "INTERNAL",
      "NOT_READY",
      "S3_ERROR",
      "S3_NOT_CONFIGURED",
      "TICKET_UNCHECKED",
      "UNAVAILABLE",
    ]);
    for (const code of PROBLEM_CODES) {
      expect(new HttpProblem(code, "x").status).toBeGreaterThanOrEqual(400);
    }
  });

  it("renders RFC 9457 problems with a kebab-case type and our code", () => {
    const problem = new HttpProblem("ALREADY_DECIDED", "request is already approved by ann@example.com");
    expect(problem.toProblem("req-1")).toEqual({
      type: "https://keyturn.dev/problems/already-decided",
      title: "Conflict",
      status: 409,
      detail: "request is already approved by ann@example.com",
      code: "ALREADY_DECIDED",
      requestId: "req-1",
    });
  });

  it("turns core's flow-rule problems into field errors under body", () => {
    const problem = useCaseProblem({
      code: "INVALID_FLOW",
      message: "targets[1]: duplicate target",
      details: {
        problems: [
          { path: "targets[1]", message: "duplicate target 1/S3" },
          { path: "defaultDurationSeconds", message: "must not exceed maxDurationSeconds" },
        ],
      },
    });
    expect(problem.toProblem("r").errors).toEqual([
      { path: "body.targets.1", message: "duplicate target 1/S3" },
      { path: "body.defaultDurationSeconds", message: "must not exceed maxDurationSeconds" },
    ]);
  });
});
