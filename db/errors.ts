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

/** True when `e` is an exclusion-constraint violation (23P01): host_bookings refusing a host booked twice for one moment. */
export function isExclusionViolation(e: unknown): boolean {
  return pgErrorOf(e)?.code === "23P01";
}

/** True when PostgreSQL broke a deadlock by aborting this statement (40P01); the work may be retried. */
export function isDeadlock(e: unknown): boolean {
  return pgErrorOf(e)?.code === "40P01";
}

/**
 * True when `e` is a foreign-key violation (a row still referenced, or a missing parent).
 * A reference declared ON DELETE RESTRICT reports 23001 (restrict_violation), not 23503.
 */
export function isForeignKeyViolation(e: unknown): boolean {
  const code = pgErrorOf(e)?.code;
  return code === "23503" || code === "23001";
}

/**
 * PostgreSQL errors that only bad input can cause, as a sentence for the person who sent it
 * (validation should have caught them; this is the net under it). Null for anything else,
 * which stays a logged 500. The driver's own message is not shown: it can quote the value
 * or name internal tables.
 */
const INPUT_ERRORS: Record<string, string> = {
  "22P02": "A value in the request is not in the form expected (for example, an id that is not a UUID, or text where a number belongs).",
  "22003": "A number in the request is out of range.",
  "22008": "A date or time in the request is out of range.",
  "22007": "A date or time in the request is not valid.",
  "22021": "The request contains text that is not valid UTF-8 or contains a NUL byte.",
  "22P05": "The request contains text that cannot be stored (a NUL byte or an unsupported character).",
  "22001": "A value in the request is too long.",
  "22023": "A value in the request is not valid.",
  "2201W": "A limit in the request is not valid.",
  "2201X": "An offset in the request is not valid.",
  "23503": "The request refers to something that does not exist, or would remove something still in use.",
  "23001": "The request would remove something still in use.",
  "23514": "A value in the request is not allowed.",
  "54001": "The request is too deeply nested.",
  "54000": "The request is too large.",
};

export function pgInputErrorMessage(e: unknown): string | null {
  const code = pgErrorOf(e)?.code;
  return code && Object.hasOwn(INPUT_ERRORS, code) ? INPUT_ERRORS[code]! : null;
}
