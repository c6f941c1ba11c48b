import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, test } from "@playwright/test";
import { startKiln } from "../support/npm-start";
import { stopProcessGroup, waitForLine, waitForPostgresStopped } from "../support/processes";

const exec = promisify(execFile);

test("[START] npm start on an empty data dir serves sign-in, stops cleanly, and keeps its data on restart", async () => {
  test.setTimeout(180_000);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-start-"));
  await fs.chmod(dataDir, 0o711); // the embedded PostgreSQL runs as the `postgres` user and must enter it
  const port = 40000 + Math.floor(Math.random() * 10000);
  const url = `http://127.0.0.1:${port}`;
  try {
    const first = startKiln(dataDir, port);
    await waitForLine(first.child, /Kiln is running at/, 120_000);
    await waitForLine(first.child, /\/setup\//, 10_000).catch(() => {});
    expect(first.output()).toMatch(/one-time link to create the first one/);
    // Without KILN_BOOT_URL machines are told localhost: the log says so, with the chain URL they get.
    expect(first.output()).toContain(`Machines chain-load http://localhost:${port + 1}/boot/chain.ipxe (derived from KILN_URL and the boot port ${port + 1}`);
    expect(first.output()).toContain(`warning: Machines cannot reach the boot URL http://localhost:${port + 1}: localhost is, on each machine, the machine itself.`);
    const signin = await fetch(`${url}/signin`);
    expect(signin.status).toBe(200);
    expect(await signin.text()).toContain("Sign in to Kiln");
    expect(await (await fetch(`${url}/api/health`)).json()).toEqual({ ok: true, database: "up" });

    // The admin CLI works against the running embedded database.
    const cli = (args: string[]) => exec("npm", ["run", "--silent", "kiln", "--", ...args], { env: first.env });
    await cli(["user", "create", "--email", "ops@lab.example", "--password", "ops passphrase 1", "--admin"]);
    const { stdout } = await cli(["token", "create", "--email", "ops@lab.example", "--name", "automation"]);
    const token = stdout.trim().split("\n").pop()!;
    expect(token).toMatch(/^kiln_pat_[A-Za-z0-9_-]{43}$/);
    const users = await fetch(`${url}/api/v1/users`, { headers: { authorization: `Bearer ${token}` } });
    expect(users.status).toBe(200);

    const weak = await cli(["user", "create", "--email", "x@lab.example", "--password", "short"]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(weak?.code).toBe(1);
    expect(weak?.stderr).toContain("error: --password: Use at least 10 characters.");
    expect(weak?.stderr).not.toMatch(/\n\s+at /);

    // SIGTERM stops web, worker and the embedded PostgreSQL.
    await stopProcessGroup(first.child, 30_000);
    expect(await waitForPostgresStopped(dataDir)).toBe(true);
    await expect.poll(async () => fetch(`${url}/signin`).then(() => "up", () => "down")).toBe("down");

    // A second start on the same data dir keeps everything: no setup link (an admin exists), the token still works.
    // …and with KILN_BOOT_URL set elsewhere, the log gives that chain URL (not the portal's), without a warning.
    const second = startKiln(dataDir, port, "warn", { KILN_BOOT_URL: `http://10.1.0.2:${port + 1}` });
    await waitForLine(second.child, /Kiln is running at/, 120_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(second.output()).not.toMatch(/\/setup\//);
    expect(second.output()).toContain(`Machines chain-load http://10.1.0.2:${port + 1}/boot/chain.ipxe (KILN_BOOT_URL)`);
    expect(second.output()).not.toContain("Machines cannot reach");
    expect((await fetch(`${url}/api/v1/users`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    await stopProcessGroup(second.child, 30_000);
    expect(await waitForPostgresStopped(dataDir)).toBe(true);
    expect(existsSync(path.join(dataDir, "postgres", "data", "PG_VERSION"))).toBe(true);
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true }).catch(() => {});
  }
});
