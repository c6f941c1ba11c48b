// The boot server process (scripts/boot-server.ts, as `npm run boot-server` runs it) answers
// Raspberry Pis over TFTP on KILN_TFTP_PORT: an unknown serial asked through it is enlisted in
// the server's site, and the TFTP transfer is refused cleanly (file not found), no Next.js involved.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { findHostByPiSerial } from "@/db/queries/pi";
import { getEnv, getProcessEnv } from "@/lib/env";
import { findFreePort } from "@/lib/runtime/embedded-postgres";
import { ensureSite } from "@/lib/sites/sites";
import { useTestDb } from "@/test/harness/database";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..", "..");
const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-pi-server-"));
const site = `pi-${randomBytes(3).toString("hex")}`;
let child: ChildProcess;
let output = "";
let tftpPort: number;

beforeAll(async () => {
  const port = await findFreePort();
  tftpPort = await findFreePort();
  child = spawn(process.execPath, ["--import", "tsx", "scripts/boot-server.ts"], {
    cwd: root,
    env: {
      ...getProcessEnv(),
      DATABASE_URL: t.url,
      KILN_SECRET_KEY: getEnv().KILN_SECRET_KEY,
      KILN_SITE: site,
      KILN_BOOT_PORT: String(port),
      KILN_HOST: "127.0.0.1",
      KILN_TFTP_PORT: String(tftpPort),
      KILN_DATA_DIR: dataDir,
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const start = Date.now();
  while (!output.includes("TFTP for Raspberry Pis listening")) {
    if (child.exitCode !== null || Date.now() - start > 30_000) throw new Error(`the boot server did not start its TFTP:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => (child.kill("SIGKILL"), resolve()), 10_000).unref();
    });
  }
  await fs.rm(dataDir, { recursive: true, force: true });
});

it("the boot server's TFTP enlists an unknown Pi serial in its site and answers file-not-found", async () => {
  const serial = randomBytes(4).toString("hex");
  const failed = await run("busybox", ["tftp", "-g", "-r", `${serial}/start4.elf`, "-l", path.join(dataDir, "x"), "127.0.0.1", String(tftpPort)]).then(
    () => null,
    (e: { stderr: string }) => e.stderr,
  );
  expect(failed).toMatch(/\(1\) File not found/);
  const host = await findHostByPiSerial(t.db, serial);
  expect(host).toMatchObject({ name: `pi-${serial}`, arch: "arm64", state: "new", siteId: (await ensureSite(t.db, site)).id });
}, 30_000);
