import { describe, expect, it } from "vitest";
import { readRequestForm, type ViewStateValues } from "../request-form.js";
import { rules } from "../test-support.js";
import { REQUEST_MODAL } from "./ids.js";
import { modalMetadata, requestModal } from "./request-modal.js";

const s3 = { name: "s3-prod", version: 3, rules: rules() };
const multi = {
  name: "multi",
  version: 1,
  rules: rules({
    title: "Several",
    targets: [
      { accountId: "111122223333", permissionSetName: "S3Access" },
      { accountId: "444455556666", permissionSetName: "ReadOnly" },
    ],
    maxDurationSeconds: 5400,
    defaultDurationSeconds: 1800,
    reason: { required: false, pattern: "[A-Z]+-\\d+ .+" },
  }),
};

type Block = {
  type: string;
  block_id?: string;
  optional?: boolean;
  hint?: { text: string };
  element?: Record<string, unknown>;
};

function block(view: ReturnType<typeof requestModal>, id: string): Block | undefined {
  return (view.blocks as Block[]).find((b) => b.block_id === id);
}

describe("the request modal", () => {
  it("lists the flows the user may request and bounds durations by the selected flow's max", () => {
    const view = requestModal({ flows: [s3, multi], selected: multi });
    const flow = block(view, REQUEST_MODAL.blocks.flow)?.element as {
      options: Array<{ value: string }>;
      initial_option: { value: string };
    };
    expect(flow.options.map((o) => o.value)).toEqual(["s3-prod", "multi"]);
    expect(flow.initial_option.value).toBe("multi");
    const duration = block(view, REQUEST_MODAL.blocks.duration)?.element as {
      options: Array<{ value: string; text: { text: string } }>;
      initial_option: { value: string };
    };
    expect(duration.options.map((o) => o.text.text)).toEqual(["15m", "30m", "1h", "1h 30m"]);
    expect(duration.initial_option.value).toBe("1800");
    expect(block(view, REQUEST_MODAL.blocks.target)?.element?.options).toHaveLength(2);
    expect(block(view, REQUEST_MODAL.blocks.reason)).toMatchObject({
      optional: true,
      hint: { text: "Must match: [A-Z]+-\\d+ .+" },
    });
    expect(JSON.parse(view.private_metadata ?? "")).toEqual(modalMetadata(multi));
  });

  it("has no target select for a single-target flow; a required reason is not optional", () => {
    const view = requestModal({
      flows: [s3],
      selected: s3,
      prefill: { durationSeconds: 5400, reason: "why", ticket: "INC-1" },
    });
    expect(block(view, REQUEST_MODAL.blocks.target)).toBeUndefined();
    expect(block(view, REQUEST_MODAL.blocks.reason)).toMatchObject({ optional: false });
    expect(block(view, REQUEST_MODAL.blocks.duration)?.element?.initial_option).toMatchObject({
      value: "5400",
    });
    expect(block(view, REQUEST_MODAL.blocks.reason)?.element?.initial_value).toBe("why");
    expect(block(view, REQUEST_MODAL.blocks.ticket)?.element?.initial_value).toBe("INC-1");
    expect(view.title).toMatchObject({ text: "Request AWS access" });
  });
});

function values(input: Record<string, string | undefined>): ViewStateValues {
  const { blocks, actions } = REQUEST_MODAL;
  const select = (value: string | undefined) => ({
    type: "static_select",
    selected_option: value === undefined ? null : { value },
  });
  return {
    [blocks.flow]: { [actions.flow]: select(input.flow) },
    [blocks.target]: { [actions.target]: select(input.target) },
    [blocks.duration]: { [actions.duration]: select(input.duration) },
    [blocks.reason]: { [actions.reason]: { type: "plain_text_input", value: input.reason ?? null } },
    [blocks.ticket]: { [actions.ticket]: { type: "plain_text_input", value: input.ticket ?? null } },
  };
}

describe("reading the submitted form", () => {
  it("returns the request", () => {
    expect(
      readRequestForm(
        values({ flow: "multi", target: "444455556666/ReadOnly", duration: "5400", reason: " OPS-1 look " }),
        modalMetadata(multi),
      ),
    ).toEqual({
      ok: true,
      input: {
        flowName: "multi",
        target: { accountId: "444455556666", permissionSetName: "ReadOnly" },
        durationSeconds: 5400,
        reason: "OPS-1 look",
      },
    });
  });

  it("answers every problem under its field", () => {
    expect(
      readRequestForm(
        values({ flow: "multi", target: "999/Admin", duration: "7200", reason: "nope", ticket: "X-1" }),
        modalMetadata(multi),
      ),
    ).toEqual({
      ok: false,
      errors: {
        target: "Choose the account and permission set you need.",
        duration: "2h is longer than this flow allows: at most 1h 30m.",
        reason: "The reason must match [A-Z]+-\\d+ .+.",
        ticket: "The ticket must match INC-\\d+.",
      },
    });
    expect(readRequestForm(values({ flow: "s3-prod", duration: "-5" }), modalMetadata(s3))).toEqual({
      ok: false,
      errors: {
        duration: "Choose how long you need access for.",
        reason: "This flow needs a reason: say what you need the access for.",
      },
    });
  });

  it("refuses a form whose flow changed without the modal being rebuilt", () => {
    const result = readRequestForm(
      values({ flow: "multi", duration: "3600", reason: "x" }),
      modalMetadata(s3),
    );
    expect(result.ok).toBe(false);
  });
});

describe("a flow's own durations (core's offeredDurations, shared with the API and the CLI)", () => {
  const named = {
    name: "named",
    version: 1,
    rules: rules({
      defaultDurationSeconds: 3600,
      maxDurationSeconds: 14_400,
      offeredDurationsSeconds: [1800, 3600, 14_400],
    }),
  };
  const bounded = {
    name: "bounded",
    version: 1,
    rules: rules({ defaultDurationSeconds: 3600, maxDurationSeconds: 7200, minDurationSeconds: 1800 }),
  };
  const durationOf = (view: ReturnType<typeof requestModal>) =>
    block(view, REQUEST_MODAL.blocks.duration) as unknown as {
      hint: { text: string };
      element: { options: Array<{ value: string }>; initial_option: { value: string } };
    };

  it("offers exactly the durations a flow names, and nothing below its min", () => {
    const offered = durationOf(
      requestModal({ flows: [named], selected: named, prefill: { durationSeconds: 600 } }),
    );
    expect(offered.element.options.map((o) => o.value)).toEqual(["1800", "3600", "14400"]);
    expect(offered.element.initial_option.value).toBe("3600");
    const min = durationOf(requestModal({ flows: [bounded], selected: bounded }));
    expect(min.element.options.map((o) => o.value)).toEqual(["1800", "3600", "7200"]);
    expect(min.hint.text).toContain("From 30m to 2h");
  });

  it("refuses under the field a duration the flow does not grant", () => {
    expect(
      readRequestForm(values({ flow: "named", duration: "7200", reason: "x" }), modalMetadata(named)),
    ).toEqual({
      ok: false,
      errors: { [REQUEST_MODAL.blocks.duration]: "This flow grants 30m, 1h, 4h: choose one of them." },
    });
    expect(
      readRequestForm(values({ flow: "bounded", duration: "900", reason: "x" }), modalMetadata(bounded)),
    ).toEqual({
      ok: false,
      errors: { [REQUEST_MODAL.blocks.duration]: "15m is shorter than this flow allows: at least 30m." },
    });
    expect(
      readRequestForm(values({ flow: "named", duration: "14400", reason: "x" }), modalMetadata(named)).ok,
    ).toBe(true);
  });
});

describe("the request modal of a flow that checks tickets", () => {
  it("asks for a ticket and says what it must be and that access ends with it", () => {
    const checked = {
      name: "ops",
      version: 1,
      rules: rules({
        ticket: { required: true, check: { provider: "jira", projects: ["OPS"], assignedToRequester: true } },
      }),
    };
    const ticket = block(requestModal({ flows: [checked], selected: checked }), REQUEST_MODAL.blocks.ticket);
    expect(ticket?.optional).toBe(false);
    expect(ticket?.hint?.text).toBe(
      "An open Jira issue from OPS, assigned to you (like OPS-123, or its link). Your access ends when it closes.",
    );
  });
});
