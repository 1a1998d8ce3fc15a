import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, flowRules, problemOf, type TestApi } from "./test-support.js";

// A flow's minDurationSeconds and offeredDurationsSeconds bound what the API grants, by the same
// rules (core's durationProblem) the Slack modal offers and checks.

const database = useTestDatabase();
let api: TestApi;
let admin: string;
let writer: string;

beforeAll(async () => {
  api = await createTestApi(database.url);
  admin = await api.token(["flows:admin"]);
  // Files for rita: filing for someone else takes the integration scope.
  writer = await api.token(["requests:write", "requests:on-behalf"]);
});
afterAll(async () => {
  await api.close();
});

const request = (flow: string, durationSeconds: number) =>
  api.call("POST", "/v1/requests", {
    token: writer,
    body: { flow, requesterEmail: "rita@example.com", durationSeconds, reason: "INC-1 durations" },
  });

describe("a flow's durations", () => {
  it("are stored with the flow and refused when inconsistent", async () => {
    const bad = await api.call("PUT", "/v1/flows/bad-durations", {
      token: admin,
      body: flowRules({ defaultDurationSeconds: 3600, offeredDurationsSeconds: [1800, 7200] }),
    });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(problemOf(bad))).toContain("must include defaultDurationSeconds");

    const rules = flowRules({
      defaultDurationSeconds: 3600,
      maxDurationSeconds: 14_400,
      minDurationSeconds: 1800,
      offeredDurationsSeconds: [1800, 3600, 14_400],
    });
    const put = await api.call("PUT", "/v1/flows/named-durations", { token: admin, body: rules });
    expect(put.statusCode).toBe(201);
    expect(put.json()).toMatchObject({
      flow: { rules: { minDurationSeconds: 1800, offeredDurationsSeconds: [1800, 3600, 14_400] } },
    });
  });

  it("grant only the offered durations through the API", async () => {
    const offered = await request("named-durations", 14_400);
    expect(offered.statusCode).toBe(201);
    const other = await request("named-durations", 7200);
    expect(other.statusCode).toBe(400);
    expect(problemOf(other)).toMatchObject({
      code: "DURATION_OUT_OF_RANGE",
      detail: "duration must be one of 1800, 3600, 14400 seconds, got 7200",
    });
  });

  it("grant nothing below the flow's min", async () => {
    const put = await api.call("PUT", "/v1/flows/min-durations", {
      token: admin,
      body: flowRules({ defaultDurationSeconds: 3600, maxDurationSeconds: 7200, minDurationSeconds: 900 }),
    });
    expect(put.statusCode).toBe(201);
    expect((await request("min-durations", 900)).statusCode).toBe(201);
    const short = await request("min-durations", 600);
    expect(problemOf(short)).toMatchObject({
      code: "DURATION_OUT_OF_RANGE",
      detail: expect.stringMatching(/between 900 and 7200/),
    });
  });
});
