import { z } from "zod";

/** Ids are Postgres uuids; any 8-4-4-4-12 hex string is accepted, as the database does. */
export const UuidSchema = z.guid({ error: "must be a UUID" });

export const IsoDateTimeSchema = z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time" });

export const IdParamsSchema = z.strictObject({ id: UuidSchema });

/** Dates leave the API as ISO strings, and absent ones as null (never omitted). */
export const iso = (date: Date | null | undefined): string | null =>
  date == null ? null : date.toISOString();
