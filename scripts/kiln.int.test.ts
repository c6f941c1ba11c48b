// The admin CLI as automation runs it: `npx tsx scripts/kiln.ts …` in a child process,
// pointed at this file's test database through DATABASE_URL.
import { describe, expect, it } from "vitest";
import { getUserByEmail } from "@/db/queries/users";
import { authenticateApiToken } from "@/lib/auth/api-tokens";
import { useTestDb } from "@/test/harness/database";
import { uniqueEmail } from "@/test/harness/fixtures";
import { ownStderr as kilnStderr, runScript, type ScriptRun as Run } from "@/test/harness/run-script";

const t = await useTestDb();

const kiln = (...args: string[]) => runScript("scripts/kiln.ts", args, t.url);

function expectNoStackTrace(run: Run): void {
  expect(run.stderr).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

// Each run is a fresh `npx tsx` process that loads the ORM's module graph (seconds on a busy
// machine: bench/README.md, "Memory"); a loaded CI machine needs more than the default 30 s.
describe("kiln CLI", { timeout: 90_000 }, () => {
  it("creates an admin, then a token (the last stdout line) that authenticates as that admin", async () => {
    const email = uniqueEmail("cli-admin");
    const created = await kiln("user", "create", "--email", email, "--password", "cli admin passphrase", "--name", "CLI Admin", "--admin");
    expect(kilnStderr(created)).toBe("");
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(new RegExp(`^created admin ${email} \\(`));
    expect(await getUserByEmail(t.db, email)).toMatchObject({ role: "admin", name: "CLI Admin" });

    const weakEmail = uniqueEmail("cli-weak");
    const [tokenRun, duplicate, weak, unknown] = await Promise.all([
      kiln("token", "create", "--email", email, "--name", "ci", "--expires-days", "7"),
      kiln("user", "create", "--email", email.toUpperCase(), "--password", "another passphrase"),
      kiln("user", "create", "--email", weakEmail, "--password", "short"),
      kiln("token", "create", "--email", "nobody@lab.example"),
    ]);

    expect(tokenRun.code).toBe(0);
    const lines = tokenRun.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^token "ci" for .+, expires .+; shown once:$/);
    const token = lines.at(-1)!;
    expect(token).toMatch(/^kiln_pat_/);
    expect((await authenticateApiToken(t.db, token)).email).toBe(email);

    expect(duplicate.code).toBe(1);
    expect(kilnStderr(duplicate)).toBe(`error: --email: An account with the email ${email} already exists.`);
    expectNoStackTrace(duplicate);

    expect(weak.code).toBe(1);
    expect(kilnStderr(weak)).toBe("error: --password: Use at least 10 characters.");
    expectNoStackTrace(weak);
    expect(await getUserByEmail(t.db, weakEmail)).toBeUndefined();

    expect(unknown.code).toBe(1);
    expect(kilnStderr(unknown)).toBe("error: No account has the email nobody@lab.example.");
    expectNoStackTrace(unknown);
  });

  it("refuses a common password and one containing the email, naming --password", { timeout: 90_000 }, async () => {
    const email = uniqueEmail("cli-common");
    const [common, ownEmail] = await Promise.all([
      kiln("user", "create", "--email", email, "--password", "Password123!"),
      kiln("user", "create", "--email", email, "--password", `${email}!!`),
    ]);
    expect(common.code).toBe(1);
    expect(kilnStderr(common)).toBe("error: --password: This password is too common or too easy to guess. Use a longer passphrase of a few unrelated words.");
    expectNoStackTrace(common);
    expect(ownEmail.code).toBe(1);
    expect(kilnStderr(ownEmail)).toBe("error: --password: This password contains your email address. Choose one that does not.");
    expect(await getUserByEmail(t.db, email)).toBeUndefined();
  });

  it("prints its usage and exits 2 on an unknown command", async () => {
    const run = await kiln("frobnicate");
    expect(run.code).toBe(2);
    expect(kilnStderr(run)).toMatch(/^Usage:/);
  });
});
