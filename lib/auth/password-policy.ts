// Password rules beyond the length and variety that lib/validation/accounts.ts checks: not a
// common or easily guessed password, and not the person's own email. Common passwords are
// judged by zxcvbn-ts against its maintained lists (tens of thousands of leaked passwords,
// keyboard walks, dates, l33t, repeats), not a list kept here.
//
// Server-side only: the dictionaries are megabytes, so they are loaded on the first check
// (dynamic import) and never reach a browser bundle; forms show the server's field error.
import type { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { AppError } from "../errors";

export type PasswordOwner = { email: string; name?: string | null };

/**
 * zxcvbn's score: 0–1 fall within a million guesses, 2 within 10^8, 3 within 10^10. Below 3
 * is what password lists and rule-based crackers find first ("Password123!", "Welcome2024").
 */
export const MIN_PASSWORD_SCORE = 3;

export const TOO_COMMON = "This password is too common or too easy to guess. Use a longer passphrase of a few unrelated words.";
export const CONTAINS_EMAIL = "This password contains your email address. Choose one that does not.";

// zxcvbn's matching grows steeply with length (a 256-character repeat takes most of a second
// on this web thread); the first 64 characters decide: a password that is strong there is
// strong, and one that is weak there is padded, not random.
const JUDGED_LENGTH = 64;

let checker: Promise<ZxcvbnFactory> | undefined;

function getChecker(): Promise<ZxcvbnFactory> {
  checker ??= Promise.all([import("@zxcvbn-ts/core"), import("@zxcvbn-ts/language-common")]).then(
    ([{ ZxcvbnFactory }, common]) => new ZxcvbnFactory({ dictionary: { ...common.dictionary }, graphs: common.adjacencyGraphs, maxLength: JUDGED_LENGTH }),
  );
  return checker;
}

/** Letters and digits only, lower-cased: "Grace.Hopper" and "grace hopper" compare equal. */
function compact(s: string): string {
  return s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");
}

function containsEmail(password: string, email: string): boolean {
  const pw = compact(password);
  const at = email.lastIndexOf("@");
  const local = compact(at > 0 ? email.slice(0, at) : email);
  if (pw.includes(compact(email))) return true;
  // A very short local part ("al") would match by chance; only the whole of it counts then.
  return local.length >= 4 ? pw.includes(local) : pw === local;
}

/** The reason this password may not be used by this person, or null. */
export async function getPasswordProblem(password: string, owner: PasswordOwner): Promise<string | null> {
  if (owner.email && containsEmail(password, owner.email)) return CONTAINS_EMAIL;
  const inputs = [owner.email, owner.email.split("@")[0] ?? "", ...(owner.name ?? "").split(/\s+/)].filter((s) => s.length >= 3);
  const result = (await getChecker()).check(password, inputs);
  return result.score < MIN_PASSWORD_SCORE ? TOO_COMMON : null;
}

/** Refuses, as a field error of `field`, a password this person may not use. */
export async function assertPasswordAllowed(field: string, password: string, owner: PasswordOwner): Promise<void> {
  const problem = await getPasswordProblem(password, owner);
  if (problem) throw AppError.field(field, problem);
}
