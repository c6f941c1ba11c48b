// The admin CLI as automation runs it: `npx tsx scripts/kiln.ts …` in a child process,
// pointed at this file's test database through DATABASE_URL.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { getUserByEmail } from "@/db/queries/users";
import { authenticateApiToken } from "@/lib/auth/api-tokens";
import { useTestDb } from "@/test/harness/database";
import { uniqueEmail } from "@/test/harness/fixtures";

const t = await useTestDb();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

type Run = { code: number | null; stdout: string; stderr: string };

function kiln(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["tsx", "scripts/kiln.ts", ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: t.url, LOG_LEVEL: "silent" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** What Kiln itself printed on stderr (npm may add its own warnings about the environment). */
function kilnStderr(run: Run): string {
  return run.stderr
    .split("\n")
    .filter((l) => l && !l.startsWith("npm warn"))
    .join("\n");
}

function expectNoStackTrace(run: Run): void {
  expect(run.stderr).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

describe("kiln CLI", () => {
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

  it("prints its usage and exits 2 on an unknown command", async () => {
    const run = await kiln("frobnicate");
    expect(run.code).toBe(2);
    expect(kilnStderr(run)).toMatch(/^Usage:/);
  });
});
