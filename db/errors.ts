// PostgreSQL errors the application turns into messages. drizzle wraps driver errors
// (DrizzleQueryError) with the original as `cause`; look through the wrapper.
type PgError = { code?: string; constraint_name?: string; constraint?: string };

function pgErrorOf(e: unknown): PgError | null {
  let cur: unknown = e;
  for (let i = 0; i < 3 && cur && typeof cur === "object"; i++) {
    if ("code" in cur && typeof (cur as PgError).code === "string" && /^[0-9A-Z]{5}$/.test((cur as PgError).code!)) return cur as PgError;
    cur = (cur as { cause?: unknown }).cause;
  }
  return null;
}

/** True when `e` is a unique violation, optionally of the named constraint/index. */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  const pg = pgErrorOf(e);
  if (pg?.code !== "23505") return false;
  return !constraint || (pg.constraint_name ?? pg.constraint) === constraint;
}

/**
 * True when `e` is a foreign-key violation (a row still referenced, or a missing parent).
 * A reference declared ON DELETE RESTRICT reports 23001 (restrict_violation), not 23503.
 */
export function isForeignKeyViolation(e: unknown): boolean {
  const code = pgErrorOf(e)?.code;
  return code === "23503" || code === "23001";
}
