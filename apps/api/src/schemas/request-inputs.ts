import { REQUEST_STATUSES } from "@keyturn/core";
import { FlowNameSchema, FlowTargetSchema, SecondsSchema } from "@keyturn/flow-schema";
import { z } from "zod";
import { IsoDateTimeSchema } from "./common.js";

export const CreateRequestBodySchema = z.strictObject({
  flow: FlowNameSchema,
  requesterEmail: z.email("must be an email address").exactOptional().meta({
    description:
      "Who the access is for. Default: the token's own person. Anyone else needs scope requests:on-behalf",
  }),
  target: FlowTargetSchema.exactOptional().meta({
    description: "Required when the flow has several targets",
  }),
  durationSeconds: SecondsSchema.exactOptional().meta({
    description: "Defaults to the flow's default duration",
  }),
  reason: z.string().max(2000).exactOptional(),
  ticket: z.string().max(200).exactOptional(),
});

export const ListRequestsQuerySchema = z.strictObject({
  state: z
    .string()
    .transform((raw) => raw.split(",").map((s) => s.trim()))
    .pipe(z.array(z.enum(REQUEST_STATUSES)).min(1))
    .optional()
    .meta({ description: `Comma-separated states: ${REQUEST_STATUSES.join(", ")}` }),
  flow: FlowNameSchema.optional(),
  requester: z.email("must be an email address").optional(),
  createdAfter: IsoDateTimeSchema.optional().meta({ description: "Inclusive" }),
  createdBefore: IsoDateTimeSchema.optional().meta({ description: "Exclusive" }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(512).optional().meta({ description: "nextCursor of the previous page (opaque)" }),
});

const Comment = z.string().trim().min(1, "must not be empty").max(2000);

/** A body whose fields are all optional may be left out altogether (fastify then hands us null). */
function omittable<T extends z.ZodType<object>>(schema: T, empty: z.output<T>) {
  return schema.nullish().transform((body): z.output<T> => body ?? empty);
}

export const ReviewBodySchema = omittable(z.strictObject({ comment: Comment.exactOptional() }), {});

export const OverrideBodySchema = z.strictObject({
  decision: z.enum(["approve", "deny"]),
  comment: z
    .string({ error: "is required: say why the flow's rules are overridden" })
    .trim()
    .min(1, "must say why the flow's rules are overridden")
    .max(2000),
});

export const CancelBodySchema = omittable(
  z.strictObject({
    asAdmin: z
      .boolean()
      .default(false)
      .meta({ description: "Cancel someone else's request (needs flows:admin)" }),
  }),
  { asAdmin: false },
);

export const RevokeBodySchema = omittable(
  z.strictObject({
    reason: z.string().trim().min(1).max(2000).exactOptional(),
    asAdmin: z.boolean().default(false).meta({ description: "Revoke as an admin (needs flows:admin)" }),
  }),
  { asAdmin: false },
);

export const ExtendBodySchema = z.strictObject({ additionalSeconds: SecondsSchema });
