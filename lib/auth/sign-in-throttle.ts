// Failed sign-ins slow the next attempt down instead of locking the account: each counter
// (the account, the client address) allows a few failures, then every further attempt
// waits 1 s, 2 s, 4 s … up to a cap. The account's cap is short (a minute), so a stranger
// who knows an admin's email cannot keep the admin out; the address's cap is long, so one
// address cannot keep guessing, at one account or at many.
//
// An attempt is counted as a failure before the password is checked (under a row lock), so
// a burst of parallel guesses cannot slip past the wait; a right password then takes the
// count back. Refused attempts (429) are not counted, and the answer is the same whether
// or not the account exists: the counters are keyed by what was typed.
import {
  deleteSignInFailures,
  deleteSignInFailuresBefore,
  lockSignInFailures,
  updateSignInFailure,
  type SignInFailureRow,
} from "@/db/queries/auth";
import type { Db, DbOrTx } from "../db";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { describeWait } from "./rate-limit";

export type BackoffRule = {
  /** Failures allowed before attempts have to wait. */
  free: number;
  /** The first wait; each further failure doubles it. */
  baseSeconds: number;
  maxSeconds: number;
  /** A counter with no failure for this long starts again from zero. */
  forgetSeconds: number;
};

export const ACCOUNT_MAX_WAIT_SECONDS = 60;
export const ADDRESS_MAX_WAIT_SECONDS = 30 * 60;
// Longer than either cap, or waiting out the cap would also wipe the count.
const ACCOUNT_FORGET_SECONDS = 3600;
const ADDRESS_FORGET_SECONDS = 24 * 3600;

export function signInRules(): { account: BackoffRule; address: BackoffRule; pair: BackoffRule } {
  const env = getEnv();
  return {
    account: { free: env.KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT, baseSeconds: 1, maxSeconds: ACCOUNT_MAX_WAIT_SECONDS, forgetSeconds: ACCOUNT_FORGET_SECONDS },
    address: { free: env.KILN_RATE_LIMIT_SIGNIN_PER_IP, baseSeconds: 1, maxSeconds: ADDRESS_MAX_WAIT_SECONDS, forgetSeconds: ADDRESS_FORGET_SECONDS },
    // Never waits on its own; remembered as long as the address's count it may lower.
    pair: { free: Infinity, baseSeconds: 1, maxSeconds: 0, forgetSeconds: ADDRESS_FORGET_SECONDS },
  };
}

/** Seconds the next attempt must wait after `failures` failures: 0 within the free allowance, then 1, 2, 4 … up to the cap. */
export function backoffSeconds(failures: number, rule: BackoffRule): number {
  if (failures < rule.free) return 0;
  return Math.min(rule.maxSeconds, rule.baseSeconds * 2 ** (failures - rule.free));
}

export type SignInWho = { method: "password" | "ldap"; login: string; ip: string };

/** As typed, but storable: PostgreSQL text takes no NUL, and lone surrogates are not UTF-8 (JSON escapes both). */
function storable(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

function keysOf(who: SignInWho) {
  const login = storable(who.login.trim().toLowerCase());
  return {
    account: `account:${who.method}:${login}`,
    address: `address:${storable(who.ip)}`,
    // The failures of this account from this address: what a success there may take back from the address.
    pair: `pair:${who.method}:${login}|${storable(who.ip)}`,
  };
}

/** The counter as it stands at `now`: a counter quiet for longer than the rule's memory counts from zero. */
function current(row: SignInFailureRow, rule: BackoffRule, now: Date): SignInFailureRow {
  if (row.failures > 0 && now.getTime() - row.lastFailureAt.getTime() > rule.forgetSeconds * 1000) {
    return { ...row, failures: 0, blockedUntil: null };
  }
  return row;
}

function waitOf(row: SignInFailureRow, now: Date): number {
  return row.blockedUntil ? Math.max(0, Math.ceil((row.blockedUntil.getTime() - now.getTime()) / 1000)) : 0;
}

function withFailures(row: SignInFailureRow, failures: number, rule: BackoffRule, at: Date): SignInFailureRow {
  const wait = backoffSeconds(failures, rule);
  return { ...row, failures, lastFailureAt: at, blockedUntil: wait > 0 ? new Date(at.getTime() + wait * 1000) : null };
}

/** Fewer failures after a success or a void attempt; an earlier deadline stays only while still over the allowance. */
function lowered(row: SignInFailureRow, by: number, rule: BackoffRule): SignInFailureRow {
  const failures = Math.max(0, row.failures - by);
  return { ...row, failures, blockedUntil: failures < rule.free ? null : row.blockedUntil };
}

export type SignInOutcome =
  /** The credentials were right (even if the account may not sign in): the account starts afresh. */
  | "success"
  /** Wrong login or password: the count stays. */
  | "failure"
  /** Nothing was learned (the directory could not be asked): the count is taken back. */
  | "void";

/**
 * Counts one attempt, or refuses it with 429 and Retry-After while a counter still waits.
 * The returned settle() must be called with the attempt's outcome.
 */
export async function beginSignInAttempt(db: Db, who: SignInWho, now: Date): Promise<{ settle: (outcome: SignInOutcome) => Promise<void> }> {
  const rules = signInRules();
  const keys = keysOf(who);
  await db.transaction(async (tx) => {
    const rows = await lockSignInFailures(tx, { keys: Object.values(keys), now });
    const account = current(rows.get(keys.account)!, rules.account, now);
    const address = current(rows.get(keys.address)!, rules.address, now);
    const pair = current(rows.get(keys.pair)!, rules.pair, now);
    const accountWait = waitOf(account, now);
    const addressWait = waitOf(address, now);
    if (accountWait > 0 || addressWait > 0) {
      const byAddress = addressWait >= accountWait;
      const retryAfterSeconds = Math.max(accountWait, addressWait);
      throw new AppError(
        "rate_limited",
        `Too many failed sign-in attempts ${byAddress ? "from your address" : "for this account"}. Please wait ${describeWait(retryAfterSeconds)} and try again.`,
        { retryAfterSeconds },
      );
    }
    await updateSignInFailure(tx, withFailures(account, account.failures + 1, rules.account, now));
    await updateSignInFailure(tx, withFailures(address, address.failures + 1, rules.address, now));
    await updateSignInFailure(tx, withFailures(pair, pair.failures + 1, rules.pair, now));
  });

  return {
    settle: async (outcome) => {
      if (outcome === "failure") return;
      await db.transaction(async (tx) => {
        const rows = await lockSignInFailures(tx, { keys: Object.values(keys), now });
        const address = current(rows.get(keys.address)!, rules.address, now);
        if (outcome === "success") {
          // The owner is back: their account's counter goes, and so do their own failures from
          // this address; failures against other accounts from here still count.
          const pair = current(rows.get(keys.pair)!, rules.pair, now);
          await updateSignInFailure(tx, lowered(address, pair.failures, rules.address));
          await deleteSignInFailures(tx, [keys.account, keys.pair]);
        } else {
          await updateSignInFailure(tx, lowered(address, 1, rules.address));
          await updateSignInFailure(tx, lowered(current(rows.get(keys.account)!, rules.account, now), 1, rules.account));
          await updateSignInFailure(tx, lowered(current(rows.get(keys.pair)!, rules.pair, now), 1, rules.pair));
        }
      });
    },
  };
}

/**
 * Runs one sign-in under the throttle. A result is a success; an "unauthorized" refusal a
 * failure; "forbidden"/"conflict" come only after the credentials were proven right, so
 * they count as a success; anything else (the directory is down) is void.
 */
export async function throttledSignIn<T>(db: Db, who: SignInWho, now: Date, attempt: () => Promise<T>): Promise<T> {
  const { settle } = await beginSignInAttempt(db, who, now);
  let result: T;
  try {
    result = await attempt();
  } catch (e) {
    const code = e instanceof AppError ? e.code : null;
    await settle(code === "unauthorized" ? "failure" : code === "forbidden" || code === "conflict" ? "success" : "void");
    throw e;
  }
  await settle("success");
  return result;
}

/** Housekeeping: forgets counters no rule remembers any more. */
export function purgeSignInFailures(db: DbOrTx, now = new Date()): Promise<number> {
  return deleteSignInFailuresBefore(db, new Date(now.getTime() - ADDRESS_FORGET_SECONDS * 1000));
}
