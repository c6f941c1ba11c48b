import { describe, expect, it } from "vitest";
import { getSignInFailure } from "@/db/queries/auth";
import { getUserById, updateUser } from "@/db/queries/users";
import { createActiveUser, expectAppError, testContext, TEST_PASSWORD, uniqueEmail } from "@/test/harness/fixtures";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv } from "@/test/harness/env";
import type { RequestContext } from "../http/context";
import type { AppError } from "../errors";
import { errorResponse } from "../http/handler";
import { authenticateWithLdap, authenticateWithPassword } from "./authenticate";
import { purgeExpiredAuthRows } from "./housekeeping";
import { ACCOUNT_MAX_WAIT_SECONDS, ADDRESS_MAX_WAIT_SECONDS } from "./sign-in-throttle";

const t = await useTestDb();

const WRONG = "The email or password is incorrect.";

function signIn(login: string, password: string, ctx: RequestContext = testContext()) {
  return authenticateWithPassword(t.db, { method: "password", login, password }, ctx);
}

describe("sign-in with a password", () => {
  it("accepts the right password, whatever the case of the email, and records the sign-in", async () => {
    const { user } = await createActiveUser(t.db);
    expect(user.lastSignInAt).toBeNull();
    const signedIn = await signIn(user.email.toUpperCase(), TEST_PASSWORD);
    expect(signedIn.id).toBe(user.id);
    expect((await getUserById(t.db, user.id))!.lastSignInAt).toBeInstanceOf(Date);
  });

  it("gives a wrong password and an unknown email the identical answer", async () => {
    const { user } = await createActiveUser(t.db);
    const wrongPassword = await expectAppError(signIn(user.email, "not the password"), "unauthorized");
    const unknownEmail = await expectAppError(signIn(uniqueEmail("nobody"), TEST_PASSWORD), "unauthorized");
    expect(wrongPassword.message).toBe(WRONG);
    expect(unknownEmail.message).toBe(WRONG);
    expect(unknownEmail.details).toEqual(wrongPassword.details);
  });

  it("refuses an unverified account only after the password was right", async () => {
    const { user } = await createActiveUser(t.db);
    await updateUser(t.db, user.id, { emailVerifiedAt: null });
    await expectAppError(signIn(user.email, "not the password"), "unauthorized", WRONG);
    await expectAppError(signIn(user.email, TEST_PASSWORD), "forbidden", /Confirm your email address first/);
  });

  it("refuses a disabled account", async () => {
    const { user } = await createActiveUser(t.db);
    await updateUser(t.db, user.id, { disabledAt: new Date() });
    await expectAppError(signIn(user.email, TEST_PASSWORD), "forbidden", /This account is disabled/);
  });

  it("refuses LDAP sign-in when no directory is configured", async () => {
    await expectAppError(
      authenticateWithLdap(t.db, { method: "ldap", login: "alice", password: "x" }, testContext()),
      "bad_request",
      /not configured/,
    );
  });
});

// Every test below runs on its own clock (`at`), so waits of seconds to half an hour are
// stepped through without sleeping; the counters themselves live in the real database.
describe("sign-in backoff", () => {
  const T0 = new Date("2026-11-10T10:00:00Z");
  const after = (seconds: number, from = T0) => new Date(from.getTime() + seconds * 1000);
  function signInAt(login: string, password: string, ctx: RequestContext, at: Date) {
    return authenticateWithPassword(t.db, { method: "password", login, password }, ctx, { now: at });
  }
  async function refusedFor(promise: Promise<unknown>): Promise<number> {
    const err = await expectAppError(promise, "rate_limited");
    expect(err.status).toBe(429);
    return err.details!.retryAfterSeconds as number;
  }

  it("lets a few failures through, then each further attempt waits 1 s, 2 s, 4 s … up to a minute per account", async () => {
    setTestEnv({ KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: "3", KILN_RATE_LIMIT_SIGNIN_PER_IP: "1000" });
    const { user } = await createActiveUser(t.db);
    const ctx = testContext();
    for (let i = 0; i < 3; i++) await expectAppError(signInAt(user.email, "wrong password!", ctx, T0), "unauthorized", WRONG);

    const first = await expectAppError(signInAt(user.email, TEST_PASSWORD, ctx, T0), "rate_limited");
    expect(first.message).toBe("Too many failed sign-in attempts for this account. Please wait 1 second and try again.");
    expect(first.details).toEqual({ retryAfterSeconds: 1 });
    // What /api/session answers with it (Auth.js is bypassed here; e2e/api/rate-limit.spec.ts goes through it).
    const res = errorResponse(first);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("1");
    // Email case does not open another counter.
    await expectAppError(signInAt(user.email.toUpperCase(), TEST_PASSWORD, ctx, T0), "rate_limited");

    // Each failure after the wait doubles the next wait; refused attempts in between do not count.
    let at = T0;
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      const wait = await refusedFor(signInAt(user.email, "wrong password!", ctx, at));
      waits.push(wait);
      expect(await refusedFor(signInAt(user.email, "wrong password!", ctx, after(wait - 1, at)))).toBe(1);
      at = after(wait, at);
      await expectAppError(signInAt(user.email, "wrong password!", ctx, at), "unauthorized", WRONG);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60]);
    expect(ACCOUNT_MAX_WAIT_SECONDS).toBe(60);

    // Even the right password waits (or a guesser could tell it by the answer), then gets in.
    expect(await refusedFor(signInAt(user.email, TEST_PASSWORD, ctx, after(59, at)))).toBe(1);
    expect((await signInAt(user.email, TEST_PASSWORD, ctx, after(60, at))).id).toBe(user.id);
  });

  it("answers an unknown account exactly as a known one, refusals included", async () => {
    setTestEnv({ KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: "2", KILN_RATE_LIMIT_SIGNIN_PER_IP: "1000" });
    const { user } = await createActiveUser(t.db);
    const answers = async (login: string) => {
      const ctx = testContext();
      const out: unknown[] = [];
      for (const s of [0, 0, 0, 1, 1, 2, 3]) {
        const err = await signInAt(login, "wrong password!", ctx, after(s)).then(
          () => expect.unreachable("signed in with a wrong password"),
          (e: AppError) => e,
        );
        out.push({ code: err.code, message: err.message, details: err.details });
      }
      return out;
    };
    const known = await answers(user.email);
    expect(await answers(uniqueEmail("ghost"))).toEqual(known);
    expect(known.map((a) => (a as { code: string }).code)).toEqual(["unauthorized", "unauthorized", "rate_limited", "unauthorized", "rate_limited", "rate_limited", "unauthorized"]);
  });

  it("stops one address guessing many accounts, with a wait that keeps growing past the account's minute", async () => {
    setTestEnv({ KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: "3", KILN_RATE_LIMIT_SIGNIN_PER_IP: "5" });
    const ctx = testContext();
    let at = T0;
    for (let i = 0; i < 5; i++) await expectAppError(signInAt(uniqueEmail("guess"), "wrong password!", ctx, at), "unauthorized", WRONG);
    const err = await expectAppError(signInAt(uniqueEmail("guess"), "wrong password!", ctx, at), "rate_limited");
    expect(err.message).toBe("Too many failed sign-in attempts from your address. Please wait 1 second and try again.");

    const waits: number[] = [];
    for (let i = 0; i < 13; i++) {
      const wait = await refusedFor(signInAt(uniqueEmail("guess"), "wrong password!", ctx, at));
      waits.push(wait);
      at = after(wait, at);
      await expectAppError(signInAt(uniqueEmail("guess"), "wrong password!", ctx, at), "unauthorized");
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 1800, 1800]);
    expect(ADDRESS_MAX_WAIT_SECONDS).toBe(1800);
    const long = await expectAppError(signInAt(uniqueEmail("guess"), "wrong password!", ctx, at), "rate_limited");
    expect(long.message).toBe("Too many failed sign-in attempts from your address. Please wait 30 minutes and try again.");

    // Only that address waits: someone else signs in at the same moment.
    const { user } = await createActiveUser(t.db);
    expect((await signInAt(user.email, TEST_PASSWORD, testContext(), at)).id).toBe(user.id);
  });

  it("keeps the owner out for at most a minute after someone elsewhere hammered the account for an hour", async () => {
    setTestEnv({ KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: "3", KILN_RATE_LIMIT_SIGNIN_PER_IP: "10" });
    const { user } = await createActiveUser(t.db, { admin: true });
    const attacker = testContext();
    const end = after(3600);
    let at = T0;
    let lastGuessAt = T0;
    let guesses = 0;
    // The attacker tries again the moment each wait is over.
    while (at < end) {
      const err = await signInAt(user.email, `guess ${guesses}`, attacker, at).then(
        () => expect.unreachable("guessed the password"),
        (e: AppError) => e,
      );
      if (err.code === "rate_limited") {
        at = after(err.details!.retryAfterSeconds as number, at);
      } else {
        expect(err.code).toBe("unauthorized");
        guesses++;
        lastGuessAt = at;
      }
    }
    // The attacker's address is throttled far harder than the account: a few dozen guesses in an hour.
    expect(guesses).toBeGreaterThan(10);
    expect(guesses).toBeLessThan(30);
    expect(await refusedFor(signInAt(user.email, "one more", attacker, lastGuessAt))).toBeGreaterThan(ACCOUNT_MAX_WAIT_SECONDS);

    // The owner, from another address right after the last guess, waits at most the account's minute, then gets in.
    const owner = testContext();
    const wait = await refusedFor(signInAt(user.email, TEST_PASSWORD, owner, lastGuessAt));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(ACCOUNT_MAX_WAIT_SECONDS);
    expect((await signInAt(user.email, TEST_PASSWORD, owner, after(wait, lastGuessAt))).id).toBe(user.id);
  });

  it("resets the account's count on success, and takes the owner's own failures back from the address's count", async () => {
    setTestEnv({ KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: "3", KILN_RATE_LIMIT_SIGNIN_PER_IP: "5" });
    const { user } = await createActiveUser(t.db);
    const ctx = testContext();
    await expectAppError(signInAt(uniqueEmail("ghost"), "wrong password!", ctx, T0), "unauthorized");
    await expectAppError(signInAt(user.email, "typo typo typo", ctx, T0), "unauthorized");
    await expectAppError(signInAt(user.email, "typo typo typo", ctx, T0), "unauthorized");
    expect((await signInAt(user.email, TEST_PASSWORD, ctx, T0)).id).toBe(user.id);

    // The account starts afresh: three more failures before any wait.
    for (let i = 0; i < 3; i++) await expectAppError(signInAt(user.email, "typo typo typo", ctx, T0), "unauthorized");
    await expectAppError(signInAt(user.email, "typo typo typo", ctx, T0), "rate_limited", /for this account/);
    expect((await signInAt(user.email, TEST_PASSWORD, ctx, after(1))).id).toBe(user.id);

    // The address still remembers the guess at another account (1 of 5), not the owner's typos.
    for (let i = 0; i < 4; i++) await expectAppError(signInAt(uniqueEmail("ghost"), "wrong password!", ctx, after(1)), "unauthorized");
    await expectAppError(signInAt(uniqueEmail("ghost"), "wrong password!", ctx, after(1)), "rate_limited", /from your address/);
  });

  it("forgets an account's failures after an hour without one", async () => {
    setTestEnv({ KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: "2", KILN_RATE_LIMIT_SIGNIN_PER_IP: "1000" });
    const { user } = await createActiveUser(t.db);
    const ctx = testContext();
    for (let i = 0; i < 2; i++) await expectAppError(signInAt(user.email, "wrong password!", ctx, T0), "unauthorized");
    await expectAppError(signInAt(user.email, "wrong password!", ctx, after(1)), "unauthorized");
    await expectAppError(signInAt(user.email, "wrong password!", ctx, after(2)), "rate_limited");
    for (let i = 0; i < 2; i++) await expectAppError(signInAt(user.email, "wrong password!", ctx, after(3602)), "unauthorized");
    await expectAppError(signInAt(user.email, "wrong password!", ctx, after(3602)), "rate_limited");
  });

  it("counts logins that PostgreSQL text cannot hold (NUL, lone surrogates) like any other, without a 500", async () => {
    setTestEnv({ KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: "1", KILN_RATE_LIMIT_SIGNIN_PER_IP: "1000" });
    for (const login of ["nul\u0000@lab.example", "half\ud800@lab.example"]) {
      const ctx = testContext();
      await expectAppError(signInAt(login, "wrong password!", ctx, T0), "unauthorized", WRONG);
      await expectAppError(signInAt(login, "wrong password!", ctx, T0), "rate_limited");
    }
  });

  it("does not let a burst of parallel guesses slip past the wait", async () => {
    setTestEnv({ KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: "3", KILN_RATE_LIMIT_SIGNIN_PER_IP: "1000" });
    const { user } = await createActiveUser(t.db);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => signInAt(user.email, "wrong password!", testContext(), T0)));
    const codes = results.map((r) => (r.status === "rejected" ? (r.reason as AppError).code : "ok"));
    expect(codes.filter((c) => c === "unauthorized")).toHaveLength(3);
    expect(codes.filter((c) => c === "rate_limited")).toHaveLength(17);
  });

  it("housekeeping forgets counters that have seen no failure for a day, and keeps the others", async () => {
    setTestEnv({ KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: "2", KILN_RATE_LIMIT_SIGNIN_PER_IP: "1000" });
    const ctx = testContext();
    const login = uniqueEmail("old");
    for (let i = 0; i < 2; i++) await expectAppError(signInAt(login, "wrong password!", ctx, T0), "unauthorized");
    expect((await getSignInFailure(t.db, `address:${ctx.ip}`))?.failures).toBe(2);
    await purgeExpiredAuthRows(t.db, after(3600));
    expect((await getSignInFailure(t.db, `account:password:${login}`))?.failures).toBe(2);
    const purged = await purgeExpiredAuthRows(t.db, after(24 * 3600 + 1));
    expect(purged.signInFailures).toBeGreaterThanOrEqual(3);
    expect(await getSignInFailure(t.db, `account:password:${login}`)).toBeUndefined();
    expect(await getSignInFailure(t.db, `address:${ctx.ip}`)).toBeUndefined();
  });
});
