// The uid a person's entry gets: the local part of their email, reduced to what POSIX login
// names allow, made unique among Kiln's entries with a number suffix.

const MAX_UID_LENGTH = 32;

/** "Anna.Müller+lab@x" → "anna.mller"; never empty, starts with a letter (POSIX names may not start with - or a digit). */
export function baseUidFromEmail(email: string): string {
  const local = email.slice(0, email.includes("@") ? email.lastIndexOf("@") : undefined).toLowerCase();
  let uid = local.split("+")[0]!.replace(/[^a-z0-9._-]/g, "").replace(/^[^a-z]+/, "");
  uid = uid.slice(0, MAX_UID_LENGTH - 4).replace(/[.-]+$/, "");
  return uid || "user";
}

/** The base itself when free, else base2, base3…, skipping every uid in `taken`. */
export function pickUniqueUid(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}${n}`;
    if (!used.has(candidate)) return candidate;
  }
}

/** RFC 4514: the characters that must be escaped in a DN attribute value (our uids have none but `.`/`-`, kept safe anyway). */
export function escapeDnValue(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, (c) => `\\${c}`).replace(/^[ #]/, (c) => `\\${c}`).replace(/ $/, "\\ ");
}
