// The launcher's refusals at start-up: each must be one readable line, never a stack trace.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { getProcessEnv } from "@/lib/env";
import { closedPort } from "@/test/harness/smtp";

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-start-fail-"));
afterAll(() => fs.rm(dataDir, { recursive: true, force: true }));

async function startKiln(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const childEnv = { ...getProcessEnv(), KILN_DATA_DIR: dataDir, ...env };
  try {
    await exec(process.execPath, ["--import", "tsx", "scripts/start.ts"], { cwd: root, env: childEnv, timeout: 60_000 });
    return { code: 0, stderr: "" };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

describe("npm start refuses clearly", () => {
  it("when the database in DATABASE_URL is down", async () => {
    const port = await closedPort();
    const { code, stderr } = await startKiln({ DATABASE_URL: `postgres://kiln:secret@127.0.0.1:${port}/kiln` });
    expect(code).toBe(1);
    expect(stderr).toContain(`Cannot reach the database at 127.0.0.1:${port}/kiln (DATABASE_URL)`);
    expect(stderr).toContain("Is PostgreSQL running");
    expect(stderr).not.toContain("secret");
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("when a variable is invalid, naming it", async () => {
    const { code, stderr } = await startKiln({ PORT: "eighty", DATABASE_URL: "postgres://127.0.0.1:1/x" });
    expect(code).toBe(1);
    expect(stderr).toContain("Invalid environment configuration");
    expect(stderr).toMatch(/PORT: /);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("when LDAP is half-configured", async () => {
    const { code, stderr } = await startKiln({ LDAP_URL: "ldap://127.0.0.1:389", DATABASE_URL: "postgres://127.0.0.1:1/x" });
    expect(code).toBe(1);
    expect(stderr).toContain("LDAP_BASE_DN: required when LDAP_URL is set");
  });
});
