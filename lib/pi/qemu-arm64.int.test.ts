// An arm64 machine booted from what Kiln's TFTP served for a Pi's serial (issue 18). QEMU's Pi
// models are far too slow here under TCG, and a Pi's GPU firmware cannot run in QEMU at all, so
// this boots QEMU's arm64 `virt` machine (cortex-a57) instead: Debian's arm64 netboot kernel and
// initrd sit in an arm64 image version's FAT boot partition, as a Pi image's kernel8.img and
// initramfs do; the test's TFTP client (busybox) fetches kernel, initrd and the machine's rendered
// cmdline.txt from Kiln's TFTP by serial, and QEMU starts that kernel with that command line
// (-kernel/-initrd/-append, since QEMU cannot fetch from Kiln's TFTP itself). Passes when the kernel
// prints its version, echoes Kiln's command line (kiln.host=<this host>), and runs the initrd's /init.
import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startDeployment } from "@/lib/deployments/start";
import { updateHost } from "@/lib/hosts/hosts";
import { updateImageVersion } from "@/lib/images/images";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { TftpServer } from "@/lib/tftp/server";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { buildPiImage } from "@/test/harness/pi-image";
import { seedReadyImage, startProvisioningSetup, type ProvisioningSetup } from "@/test/harness/provisioning";
import { createPiTftpResolver } from "./pi-tftp";

const run = promisify(execFile);
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const DI = "/usr/lib/debian-installer/images/12/arm64/text/debian-installer/arm64";

const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-pi-arm64-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });
let setup: ProvisioningSetup;
let server: TftpServer;

beforeAll(async () => {
  setup = await startProvisioningSetup(t.db, { name: "arm", macByte: 0xb5 });
  server = new TftpServer({ host: "127.0.0.1", port: 0, resolve: createPiTftpResolver({ db: t.db, siteId: () => null }) });
  await server.listen();
}, 60_000);
afterAll(async () => {
  await server?.close();
  await setup?.close();
  await stopJobSender();
  await fs.rm(dataDir, { recursive: true, force: true });
});

it("an arm64 virt machine runs the kernel, initrd and cmdline.txt Kiln's TFTP served for its serial", async () => {
  const kernel = await fs.readFile(path.join(DI, "linux"));
  const initrd = await fs.readFile(path.join(DI, "initrd.gz"));
  const image = await buildPiImage({ "kernel8.img": kernel, "initramfs8": initrd, "config.txt": Buffer.from("arm_64bit=1\ninitramfs initramfs8 followkernel\n") }, 96);
  const seeded = await seedReadyImage(t.db, { ownerUserId: setup.holder.user!.id, bytes: image, name: "Debian arm64 netboot" });
  await updateImageVersion(t.db, setup.holder, seeded.image.id, seeded.version, { arch: "arm64" });
  const h = await setup.heldHost();
  const serial = randomBytes(4).toString("hex");
  await updateHost(t.db, setup.admin, h.hostId, { arch: "arm64", piSerial: serial });
  // The run's vars make the line QEMU's virt machine needs: its PL011 console, stop at a panic, the installer quiet.
  await startDeployment(t.db, setup.holder, h.hostId, { action: "deploy_image", imageId: seeded.image.id, vars: { console: "console=ttyAMA0", kernel_args: "panic=-1 priority=critical" } });

  const fetched: Record<string, string> = {};
  for (const f of ["kernel8.img", "initramfs8", "cmdline.txt"]) {
    fetched[f] = path.join(dataDir, f);
    await run("busybox", ["tftp", "-g", "-b", "8192", "-r", `${serial}/${f}`, "-l", fetched[f]!, "127.0.0.1", String(server.address.port)], { timeout: 120_000 });
  }
  expect(sha(await fs.readFile(fetched["kernel8.img"]!))).toBe(sha(kernel));
  expect(sha(await fs.readFile(fetched["initramfs8"]!))).toBe(sha(initrd));
  const cmdline = (await fs.readFile(fetched["cmdline.txt"]!, "utf8")).trim();
  expect(cmdline).toBe(`console=ttyAMA0 root=/dev/mmcblk0p2 rootwait panic=-1 priority=critical kiln.host=${h.name} kiln.image=Debian_arm64_netboot:${seeded.version}`);

  const vm = spawn(
    "qemu-system-aarch64",
    ["-M", "virt", "-cpu", "cortex-a57", "-accel", "tcg", "-m", "512", "-smp", "1", "-nodefaults", "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot", "-net", "none",
      "-kernel", fetched["kernel8.img"]!, "-initrd", fetched["initramfs8"]!, "-append", cmdline],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let serialOut = "";
  vm.stdout!.on("data", (d) => (serialOut += d));
  vm.stderr!.on("data", (d) => (serialOut += d));
  const started = Date.now();
  try {
    while (!/Run \/init as init process/.test(serialOut)) {
      if (vm.exitCode !== null) throw new Error(`QEMU exited (${vm.exitCode}):\n${serialOut.slice(-3000)}`);
      if (Date.now() - started > 90_000) throw new Error(`no /init within 90 s:\n${serialOut.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    vm.kill("SIGKILL");
  }
  expect(serialOut).toMatch(/Booting Linux on physical CPU/);
  expect(serialOut).toMatch(/Linux version 6\.\d+\.\d+-\d+-arm64/);
  expect(serialOut).toContain(`Kernel command line: ${cmdline}`);
  process.stdout.write(`[arm64 virt] reached /init ${((Date.now() - started) / 1000).toFixed(1)} s after QEMU started\n`);
}, 240_000);
