import { SlackApiError } from "./errors.js";
import type { JsonObject, SlackBlock } from "./types.js";
import { isObject } from "./wire.js";

// The Block Kit limits Slack enforces that an app most plausibly trips over (long titles,
// oversized private_metadata, a modal with inputs but no submit button), checked the way Slack
// reports them: one "[ERROR] ... [json-pointer:...]" line per problem. Not a full schema.

const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  blockId: 255,
  sectionText: 3000,
  headerText: 150,
  viewTitle: 24,
  viewButton: 24,
  privateMetadata: 3000,
  callbackId: 255,
  externalId: 255,
  messageText: 40_000,
} as const;

export const MESSAGE_TEXT_LIMIT = LIMITS.messageText;

function textOf(value: unknown): string | undefined {
  return isObject(value) && typeof value.text === "string" ? value.text : undefined;
}

function tooLong(limit: number, pointer: string): string {
  return `[ERROR] must be less than ${limit + 1} characters [json-pointer:${pointer}]`;
}

function blockProblems(blocks: unknown, pointer: string, maxBlocks: number): string[] {
  if (!Array.isArray(blocks)) {
    return [`[ERROR] must be an array [json-pointer:${pointer}]`];
  }
  const problems: string[] = [];
  if (blocks.length > maxBlocks) {
    problems.push(`[ERROR] no more than ${maxBlocks} items allowed [json-pointer:${pointer}]`);
  }
  const seenIds = new Set<string>();
  blocks.forEach((block: unknown, i) => {
    const at = `${pointer}/${i}`;
    if (!isObject(block) || typeof block.type !== "string") {
      problems.push(`[ERROR] missing required field: type [json-pointer:${at}]`);
      return;
    }
    if (typeof block.block_id === "string") {
      if (block.block_id.length > LIMITS.blockId) {
        problems.push(tooLong(LIMITS.blockId, `${at}/block_id`));
      }
      if (seenIds.has(block.block_id)) {
        problems.push(`[ERROR] duplicate block_id: ${block.block_id} [json-pointer:${at}/block_id]`);
      }
      seenIds.add(block.block_id);
    }
    const text = textOf(block.text);
    if (block.type === "section" && text !== undefined && text.length > LIMITS.sectionText) {
      problems.push(tooLong(LIMITS.sectionText, `${at}/text/text`));
    }
    if (block.type === "header" && text !== undefined && text.length > LIMITS.headerText) {
      problems.push(tooLong(LIMITS.headerText, `${at}/text/text`));
    }
  });
  return problems;
}

/** chat.postMessage/postEphemeral/update `blocks`: undefined when absent. */
export function messageBlocks(value: unknown): SlackBlock[] | undefined {
  if (value === undefined) {
    return undefined;
  }
  const problems = blockProblems(value, "/blocks", LIMITS.messageBlocks);
  if (problems.length > 0) {
    throw new SlackApiError("invalid_blocks", problems);
  }
  return value as SlackBlock[];
}

/** The fields of a view an app controls. */
export type ViewInput = {
  type: string;
  title?: unknown;
  submit?: unknown;
  close?: unknown;
  blocks: SlackBlock[];
  private_metadata: string;
  callback_id: string;
  external_id: string;
  clear_on_close: boolean;
  notify_on_close: boolean;
};

function optionalString(view: JsonObject, name: string, limit: number, problems: string[]): string {
  const value = view[name];
  if (value === undefined || value === null) {
    return "";
  }
  if (typeof value !== "string") {
    problems.push(`[ERROR] must be a string [json-pointer:/view/${name}]`);
    return "";
  }
  if (value.length > limit) {
    problems.push(tooLong(limit, `/view/${name}`));
  }
  return value;
}

/** Checks a `view` argument; `expected` is the view type the method accepts. */
export function viewInput(value: unknown, expected: "modal" | "home"): ViewInput {
  if (value === undefined || value === "") {
    throw new SlackApiError("invalid_arguments", ["[ERROR] missing required field: view"]);
  }
  if (!isObject(value)) {
    throw new SlackApiError("invalid_arguments", ["[ERROR] failed to parse view [json-pointer:/view]"]);
  }
  const problems: string[] = [];
  if (value.type !== expected) {
    problems.push(
      expected === "home"
        ? "[ERROR] views.publish only accepts views of type home [json-pointer:/view/type]"
        : "[ERROR] must be one of: modal [json-pointer:/view/type]",
    );
  }
  const blocks = value.blocks ?? [];
  problems.push(...blockProblems(blocks, "/view/blocks", LIMITS.viewBlocks));
  if (expected === "modal") {
    const title = textOf(value.title);
    if (title === undefined) {
      problems.push("[ERROR] missing required field: title [json-pointer:/view]");
    } else if (title.length > LIMITS.viewTitle) {
      problems.push(tooLong(LIMITS.viewTitle, "/view/title/text"));
    }
    for (const button of ["submit", "close"] as const) {
      const text = textOf(value[button]);
      if (text !== undefined && text.length > LIMITS.viewButton) {
        problems.push(tooLong(LIMITS.viewButton, `/view/${button}/text`));
      }
    }
    const hasInput =
      Array.isArray(blocks) && blocks.some((block) => isObject(block) && block.type === "input");
    if (hasInput && textOf(value.submit) === undefined) {
      problems.push("[ERROR] submit is required when an input block is present [json-pointer:/view/submit]");
    }
  }
  const input: ViewInput = {
    type: typeof value.type === "string" ? value.type : expected,
    blocks: Array.isArray(blocks) ? (blocks as SlackBlock[]) : [],
    private_metadata: optionalString(value, "private_metadata", LIMITS.privateMetadata, problems),
    callback_id: optionalString(value, "callback_id", LIMITS.callbackId, problems),
    external_id: optionalString(value, "external_id", LIMITS.externalId, problems),
    clear_on_close: value.clear_on_close === true,
    notify_on_close: value.notify_on_close === true,
  };
  if (problems.length > 0) {
    throw new SlackApiError("invalid_arguments", problems);
  }
  for (const field of ["title", "submit", "close"] as const) {
    if (value[field] !== undefined) {
      input[field] = value[field];
    }
  }
  return input;
}
