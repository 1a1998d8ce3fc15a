import type { z } from "zod";

export type Loaded<T> = { ok: true; config: T } | { ok: false; problems: string[] };

/** One line per bad or missing variable, naming it, so an operator can fix all of them at once. */
export function parseEnv<S extends z.ZodType, T>(
  schema: S,
  env: Record<string, string | undefined>,
  build: (parsed: z.output<S>) => T,
): Loaded<T> {
  // Empty strings count as unset: `FOO=` in an env file should not override a default with "".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    return {
      ok: false,
      problems: result.error.issues.map(
        (issue) => `${issue.path.join(".") || "(environment)"}: ${issue.message}`,
      ),
    };
  }
  return { ok: true, config: Object.freeze(build(result.data)) };
}
