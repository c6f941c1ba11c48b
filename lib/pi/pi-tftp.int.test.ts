// Raspberry Pis over Kiln's TFTP (issue 18): a real TFTP client (busybox's tftp applet, curl)
// against the boot server's TFTP on 127.0.0.1, answered from the database at request time.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getHostRow } from "@/db/queries/hosts";
import { findHostByPiSerial } from "@/db/queries/pi";
import { startDeployment } from "@/lib/deployments/start";
import { listHosts, updateHost } from "@/lib/hosts/hosts";
import { updateImageVersion } from "@/lib/images/images";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { ERR } from "@/lib/tftp/packet";
import { TftpServer } from "@/lib/tftp/server";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { expectAppError } from "@/test/harness/fixtures";
import { buildPiImage } from "@/test/harness/pi-image";
import { seedReadyImage, startProvisioningSetup, type ProvisioningSetup } from "@/test/harness/provisioning";
import { tftpGet } from "@/test/harness/tftp-client";
import { createPiTftpResolver } from "./pi-tftp";

const run = promisify(execFile);
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

const t = await useTestDb();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-pi-"));
setTestEnvDefaults({ KILN_DATA_DIR: dataDir });

const bootFiles = {
  "start4.elf": randomBytes(2 * 1024 * 1024 + 77),
  "config.txt": Buffer.from("arm_64bit=1\nkernel=kernel8.img\n"),
  "kernel8.img": randomBytes(6 * 1024 * 1024 + 5),
  "bcm2711-rpi-4-b.dtb": randomBytes(50_000),
  "overlays/vc4-kms-v3d.dtbo": randomBytes(3000),
};
const serial = () => randomBytes(4).toString("hex");
let setup: ProvisioningSetup;
let server: TftpServer;
let port: number;
let pis: { hostId: string; name: string; serial: string }[] = [];
let imageName: string;
const out = (n: string) => path.join(dataDir, `got-${n}`);

async function bbGet(remote: string, extra: string[] = []): Promise<Buffer> {
  const local = out(randomBytes(4).toString("hex"));
  await run("busybox", ["tftp", "-g", ...extra, "-r", remote, "-l", local, "127.0.0.1", String(port)], { timeout: 60_000 });
  return fs.readFile(local);
}
async function bbFails(remote: string): Promise<string> {
  const r = await run("busybox", ["tftp", "-g", "-r", remote, "-l", out("fail"), "127.0.0.1", String(port)]).then(
    () => null,
    (e: { stderr: string }) => e.stderr,
  );
  expect(r, `busybox tftp ${remote} should fail`).not.toBeNull();
  return r!;
}

beforeAll(async () => {
  setup = await startProvisioningSetup(t.db, { name: "pi", macByte: 0xb3 });
  const bytes = await buildPiImage(bootFiles);
  const seeded = await seedReadyImage(t.db, { ownerUserId: setup.holder.user!.id, bytes, name: `Raspberry Pi OS ${randomBytes(2).toString("hex")}` });
  imageName = seeded.image.name;
  await updateImageVersion(t.db, setup.holder, seeded.image.id, seeded.version, { arch: "arm64" });
  for (const [i, vars] of [
    [0, { nbd_server: "10.9.0.1:10809", nbd_export: "pi-a" }],
    [1, { nfs_root: "10.9.0.1:/srv/pi-b" }],
    [2, null],
  ] as const) {
    const h = await setup.heldHost();
    const s = serial();
    await updateHost(t.db, setup.admin, h.hostId, { arch: "arm64", piSerial: s.toUpperCase() });
    if (vars) await startDeployment(t.db, setup.holder, h.hostId, { action: "deploy_image", imageId: seeded.image.id, vars });
    pis[i] = { hostId: h.hostId, name: h.name, serial: s };
  }
  server = new TftpServer({ host: "127.0.0.1", port: 0, timeoutMs: 300, resolve: createPiTftpResolver({ db: t.db, siteId: () => null }) });
  port = (await server.listen()).port;
});
afterAll(async () => {
  await server?.close();
  await setup?.close();
  await stopJobSender();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe("Raspberry Pi over TFTP", () => {
  it("serves each known serial its own rendered cmdline.txt, from its run's vars", async () => {
    const a = (await bbGet(`${pis[0]!.serial}/cmdline.txt`)).toString();
    const b = (await bbGet(`${pis[1]!.serial}/cmdline.txt`)).toString();
    expect(a).toBe(`console=serial0,115200 console=tty1 root=/dev/nbd0p2 nbdroot=10.9.0.1:10809/pi-a ip=dhcp rootwait kiln.host=${pis[0]!.name} kiln.image=${imageName.replace(/ /g, "_")}:1\n`);
    expect(b).toBe(`console=serial0,115200 console=tty1 root=/dev/nfs nfsroot=10.9.0.1:/srv/pi-b,vers=3,tcp ip=dhcp rootwait kiln.host=${pis[1]!.name} kiln.image=${imageName.replace(/ /g, "_")}:1\n`);
    // The fetch counts as the run's boot and the host's sighting.
    expect((await getHostRow(t.db, pis[0]!.hostId))!.sourceIp).toBe("127.0.0.1");
  });

  it("serves the boot partition files of the run's image version byte-identical (blksize and tsize negotiated), case-insensitive as FAT is", async () => {
    expect(sha(await bbGet(`${pis[0]!.serial}/start4.elf`, ["-b", "1468"]))).toBe(sha(bootFiles["start4.elf"]));
    expect(await bbGet(`${pis[1]!.serial}/config.txt`)).toEqual(bootFiles["config.txt"]);
    expect(await bbGet(`${pis[0]!.serial}/overlays/vc4-kms-v3d.dtbo`)).toEqual(bootFiles["overlays/vc4-kms-v3d.dtbo"]);
    expect(await bbGet(`${pis[0]!.serial}/BCM2711-RPI-4-B.DTB`)).toEqual(bootFiles["bcm2711-rpi-4-b.dtb"]);
    const curled = out("kernel-curl");
    await run("curl", ["-sS", "--tftp-blksize", "1468", "-o", curled, `tftp://127.0.0.1:${port}/${pis[1]!.serial}/kernel8.img`], { timeout: 60_000 });
    expect(sha(await fs.readFile(curled))).toBe(sha(bootFiles["kernel8.img"]));
    const r = await tftpGet({ port, filename: `${pis[0]!.serial}/kernel8.img`, options: { tsize: "0", blksize: "1468" }, dropBlock: 2000 });
    expect(r.oack).toEqual({ tsize: String(bootFiles["kernel8.img"].length), blksize: "1468" });
    expect(sha(r.data)).toBe(sha(bootFiles["kernel8.img"]));
    expect(r.dataPackets).toBe(Math.ceil(bootFiles["kernel8.img"].length / 1468) + 1);
    expect(await bbFails(`${pis[0]!.serial}/nothing.bin`)).toMatch(/\(1\) File not found/);
  });

  it("answers file-not-found (the Pi boots its SD card) to a known serial without a run", async () => {
    expect(await bbFails(`${pis[2]!.serial}/start4.elf`)).toMatch(/\(1\) File not found/);
    expect(await bbFails(`${pis[2]!.serial}/cmdline.txt`)).toMatch(/\(1\) File not found/);
  });

  it("enlists an unknown serial as a new arm64 host with its serial, shown in the hosts list, and answers not-found", async () => {
    const s = serial();
    expect(await bbFails(`${s}/start4.elf`)).toMatch(/\(1\) File not found/);
    const host = await findHostByPiSerial(t.db, s);
    expect(host).toMatchObject({ name: `pi-${s}`, state: "new", arch: "arm64", piSerial: s, sourceIp: "127.0.0.1" });
    // Asked again: still one host.
    await bbFails(`${s}/config.txt`);
    const listed = await listHosts(t.db, setup.admin, { q: `pi-${s}` });
    expect(listed.data.map((h) => [h.name, h.piSerial, h.arch])).toEqual([[`pi-${s}`, s, "arm64"]]);
    // An admin cannot give the serial to a second host.
    await expectAppError(updateHost(t.db, setup.admin, pis[2]!.hostId, { piSerial: s }), "validation", `Serial ${s} already belongs to host pi-${s}.`);
  });

  it("refuses traversal, absolute and over-long names with an access-violation error packet", async () => {
    for (const bad of [`${pis[0]!.serial}/../../../../etc/passwd`, "/etc/passwd", `${pis[0]!.serial}/${"x".repeat(300)}`, `${pis[0]!.serial}/..%2f..`]) {
      const r = await tftpGet({ port, filename: bad });
      expect(r.error, bad).toMatchObject({ code: ERR.ACCESS });
      expect(r.data.length).toBe(0);
    }
    expect(await bbFails("bootcode.bin")).toMatch(/\(1\) File not found/);
  });
});
