import { call } from "../api-client.js";
import { CliError, usageError } from "../cli-error.js";
import { type Command, emit, flag, stringOption } from "../command.js";
import { durationOption } from "../durations.js";
import { describeRequest, waitForActive } from "../requests.js";

const DEFAULT_WAIT_S = 3600;

export const request: Command = {
  path: ["request"],
  summary: "ask for access through a flow; with --wait, follow it until it is active",
  usage: "<flow> [--duration 1h] [--reason <text>] [--ticket <id>] [--target <account>/<set>] [--wait]",
  description:
    "With --wait: prints each step (pending, approved by whom, provisioning, active until when) and\n" +
    "exits 0 once the access is active, 1 with the reason when it is denied, times out or fails.",
  examples: [
    'keyturn request s3-data --duration 1h --reason "INC-42 restore the export" --wait',
    "keyturn request s3-data --reason 'look at the data' --ticket OPS-7 --json",
  ],
  options: {
    duration: { type: "string", label: "--duration <1h|30m>", description: "how long (default: the flow's)" },
    reason: { type: "string", label: "--reason <text>", description: "why (the flow may require it)" },
    ticket: { type: "string", label: "--ticket <id>", description: "a ticket reference" },
    target: {
      type: "string",
      label: "--target <account>/<set>",
      description: "which account and permission set, for flows with several",
    },
    wait: { type: "boolean", description: "wait until active; exit 1 if denied, timed out or failed" },
    timeout: {
      type: "string",
      label: "--timeout <1h>",
      description: "with --wait: give up waiting after this long (default 1h)",
    },
  },
  positionals: { min: 1, max: 1 },
  async run(context, input) {
    const flow = input.positionals[0] ?? "";
    const duration = stringOption(input, "duration");
    const target = stringOption(input, "target");
    const timeout = stringOption(input, "timeout");
    const durationSeconds =
      duration === undefined ? undefined : durationOption(duration, "duration", "request");
    const timeoutSeconds =
      timeout === undefined ? DEFAULT_WAIT_S : durationOption(timeout, "timeout", "request");
    const [accountId, permissionSetName, ...rest] = target?.split("/") ?? [];
    if (
      target !== undefined &&
      (accountId === undefined || permissionSetName === undefined || rest.length > 0)
    ) {
      throw usageError(`--target must be <account id>/<permission set>, got '${target}'`, "request");
    }
    const reason = stringOption(input, "reason");
    const ticket = stringOption(input, "ticket");
    const api = await context.api();
    const filed = await call(
      api.POST("/v1/requests", {
        body: {
          flow,
          ...(durationSeconds === undefined ? {} : { durationSeconds }),
          ...(reason === undefined ? {} : { reason }),
          ...(ticket === undefined ? {} : { ticket }),
          ...(accountId === undefined || permissionSetName === undefined
            ? {}
            : { target: { accountId, permissionSetName } }),
        },
      }),
    );
    if (!flag(input, "wait")) {
      emit(context, filed, () => `request ${filed.id}: ${describeRequest(filed)}\n`);
      return 0;
    }
    const progress = (line: string) =>
      context.json ? context.output.err(line) : context.output.out(`request ${filed.id}: ${line}`);
    try {
      const active = await waitForActive(api, filed, {
        timeoutMs: timeoutSeconds * 1000,
        now: context.now,
        progress,
      });
      if (context.json) {
        emit(context, active, () => "");
      }
      return 0;
    } catch (error) {
      if (error instanceof CliError && context.json) {
        // Scripts get the request as it ended, as well as the one-line reason on stderr.
        emit(
          context,
          await call(api.GET("/v1/requests/{id}", { params: { path: { id: filed.id } } })),
          () => "",
        );
      }
      throw error;
    }
  },
};
