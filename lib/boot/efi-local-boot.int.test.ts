// UEFI local boot on real firmware: OVMF (q35, TCG) with QEMU's iPXE ROM and OVMF's own network
// boot entries left on, as a lab machine's firmware has them, asks Kiln's boot server for its
// script; Kiln answers local boot; iPXE chains /boot/efi/local-boot.efi (GRUB, built here by
// grub-mkstandalone), which finds the disk's EFI loader and starts it. The disk's loader is a
// probe that prints KILN-DISK-LOADER first thing, then starts the test image's systemd-boot,
// whose Linux prints the image's marker: the clock runs from the moment Kiln finished sending its
// answer to the probe's line on the serial console. Before this (`exit 1`) OVMF first walked its
// PXE and HTTP entries, IPv4 and IPv6: set KILN_UEFI_BASELINE=1 to measure that path again.
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EFI_NONE_FOUND, EFI_STARTING_PREFIX, LOCAL_BOOT_GRUB_CFG } from "@/boot/efi/local-boot-grub";
import { answerBootRequest } from "@/lib/boot/boot-service";
import { createBootHandler } from "@/lib/boot-server/server";
import { BOOTED_PREFIX, SYSTEMD_BOOT_EFI, buildBootableImage, copyIntoImage } from "@/lab/bootable-image";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { ensureTestKernel } from "@/test/harness/kernel";
import { GUEST_KILN_URL, startVm, waitFor, type Vm } from "@/test/harness/qemu";
import { buildEfiLocalBoot, EFI_LOCAL_BOOT_PATH } from "./efi-local-boot";
import { getProcessEnv } from "../env";

const execFileAsync = promisify(execFile);
const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-efi-local-"));
// A known idle host and an unknown MAC get the same answer; unknown here, and not commissioned.
setTestEnvDefaults({ KILN_DATA_DIR: path.join(tmp, "data"), KILN_BOOT_URL: GUEST_KILN_URL, KILN_COMMISSION_ON_DISCOVERY: "false" });

const MARKER = "efi-local-boot";
// Debian's Secure Boot chain (shim-signed, grub-efi-amd64-signed): shim is signed by Microsoft's
// UEFI CA, the GRUBs by Debian's key, which shim carries.
const SHIM_SIGNED = "/usr/lib/shim/shimx64.efi.signed";
const GRUB_NET_SIGNED = "/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed";
const GRUB_SIGNED = "/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed";
const PROBE_LINE = "KILN-DISK-LOADER";
/** The done-when of issue 15, item 6: the disk's own loader runs within 3 s of Kiln's answer. */
const LIMIT_MS = 3000;
/** Measured on this machine kind with `exit 1` (KILN_UEFI_BASELINE=1 measures it again); docs/uefi.md. */
const BASELINE_NOTE = "before (exit 1, OVMF walks PXEv4, PXEv6, HTTPv4, HTTPv6 first), last measured: 13.6 s to the disk's loader, 20.6 s to the image's marker";

/** The local-boot answer as it was before /boot/efi/local-boot.efi, for the opt-in baseline. */
const EXIT_ONLY_ANSWER = "#!ipxe\nset kiln_local 1\necho Kiln: this machine boots from its local disk (UEFI)\nexit 1\n";

type Served = { path: string; at: number; status: number };
let server: http.Server;
let port = 0;
const served: Served[] = [];
let exitOnly = false;
let disk = "";
const vms: Vm[] = [];

beforeAll(async () => {
  const handler = createBootHandler({
    db: t.db,
    answers: { answer: (r) => (exitOnly ? { status: 200, contentType: "text/plain; charset=utf-8", body: EXIT_ONLY_ANSWER } : answerBootRequest(t.db, r)) },
    bootUrl: GUEST_KILN_URL,
    ramdiskDir: path.join(tmp, "ramdisk"),
    portalUrl: "http://127.0.0.1:9",
  });
  server = http.createServer((req, res) => {
    res.once("finish", () => served.push({ path: (req.url ?? "").split("?")[0]!, at: Date.now(), status: res.statusCode }));
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
  disk = await buildProbeDisk();
}, 300_000);

afterAll(async () => {
  await Promise.all(vms.map((v) => v.stop()));
  await new Promise((r) => server?.close(r));
  await fs.rm(tmp, { recursive: true, force: true });
});

/**
 * lab/'s bootable image (systemd-boot as EFI/BOOT/BOOTX64.EFI), whose BOOTX64.EFI becomes a
 * probe: a GRUB program that prints PROBE_LINE and then starts systemd-boot, moved beside it.
 */
async function buildProbeDisk(): Promise<string> {
  const kernel = await ensureTestKernel();
  const out = path.join(tmp, "disk.raw");
  await buildBootableImage({ kernelPath: kernel.path, outPath: out, marker: MARKER });
  const cfg = path.join(tmp, "probe.cfg");
  await fs.writeFile(cfg, `echo "${PROBE_LINE}"\nsearch --no-floppy --file --set=root /efi/systemd/systemd-bootx64.efi\nchainloader /efi/systemd/systemd-bootx64.efi\nboot\n`);
  const probe = path.join(tmp, "probe.efi");
  const modules = "normal search search_fs_file chain echo part_msdos fat";
  await execFileAsync("grub-mkstandalone", ["--format=x86_64-efi", `--output=${probe}`, `--modules=${modules}`, `--install-modules=${modules}`, "--locales=", "--themes=", "--fonts=", `boot/grub/grub.cfg=${cfg}`]);
  await copyIntoImage(out, { dirs: ["::/EFI/systemd"], files: [[SYSTEMD_BOOT_EFI, "::/EFI/systemd/systemd-bootx64.efi"], [probe, "::/EFI/BOOT/BOOTX64.EFI"]] });
  return out;
}

/** Polls the serial log often and notes when each text first appeared (ms since epoch). */
function watchSerial(vm: Vm, texts: string[]): { seen: Map<string, number>; stop: () => void } {
  const seen = new Map<string, number>();
  const file = path.join(vm.dir, "serial.log");
  const timer = setInterval(() => {
    let log = "";
    try {
      log = readFileSync(file, "utf8");
    } catch {
      return;
    }
    for (const s of texts) if (!seen.has(s) && log.includes(s)) seen.set(s, Date.now());
  }, 20);
  return { seen, stop: () => clearInterval(timer) };
}

async function bootOnce(p: { mac: string; diskPath: string; ovmfNetworkStack: boolean; until: string; timeoutMs: number }) {
  const copy = path.join(tmp, `${p.mac.replace(/:/g, "")}.raw`);
  await fs.copyFile(p.diskPath, copy);
  const from = served.length;
  const vm = await startVm({ mac: p.mac, kilnPort: port, uefi: true, diskPath: copy, ovmfNetworkStack: p.ovmfNetworkStack, bootfile: `${GUEST_KILN_URL}/boot/${p.mac.replace(/:/g, "-")}` });
  vms.push(vm);
  const watch = watchSerial(vm, [PROBE_LINE, EFI_STARTING_PREFIX, `${BOOTED_PREFIX} ${MARKER}`, EFI_NONE_FOUND, ">>Start PXE over IPv4"]);
  try {
    await waitFor(async () => watch.seen.has(p.until), p.timeoutMs, vm, p.until);
  } finally {
    watch.stop();
  }
  const requests = served.slice(from);
  const answer = requests.find((r) => r.path === `/boot/${p.mac.replace(/:/g, "-")}`);
  if (!answer) throw new Error(`Kiln never answered ${p.mac}: ${JSON.stringify(requests)}`);
  const since = (s: string) => (watch.seen.has(s) ? watch.seen.get(s)! - answer.at : null);
  return { vm, requests, answer, since, serial: vm.serial() };
}

describe("UEFI local boot (OVMF + iPXE, OVMF's own network boot entries on)", () => {
  it("builds the GRUB program from its inputs once, then takes it from the cache with the same bytes", async () => {
    const cache = path.join(tmp, "cache");
    const first = await buildEfiLocalBoot({ cacheDir: cache });
    const again = await buildEfiLocalBoot({ cacheDir: cache });
    if (!first.ok || !again.ok) throw new Error(first.ok ? (again as { reason: string }).reason : first.reason);
    expect([first.cached, again.cached, again.sha256 === first.sha256]).toEqual([false, true, true]);
    // A PE/COFF image for x86-64 (what OVMF's LoadImage takes): "MZ", then the PE header's machine 0x8664.
    expect(first.bytes.subarray(0, 2).toString()).toBe("MZ");
    expect(first.bytes.readUInt16LE(first.bytes.readUInt32LE(0x3c) + 4)).toBe(0x8664);
    // GRUB's own parser accepts the embedded script (grub-common's grub-script-check).
    await fs.writeFile(path.join(tmp, "local-boot.cfg"), LOCAL_BOOT_GRUB_CFG);
    await execFileAsync("grub-script-check", [path.join(tmp, "local-boot.cfg")]);
    const missing = await buildEfiLocalBoot({ cacheDir: cache, moduleDir: path.join(tmp, "no-grub-here") });
    expect(missing).toMatchObject({ ok: false, reason: expect.stringContaining("grub-efi-amd64-bin") });
  });

  it("the boot server serves it (GET, HEAD, If-None-Match) and its script; other names and methods are refused", async () => {
    const base = `http://127.0.0.1:${port}/boot/efi`;
    const get = await fetch(`${base}/local-boot.efi`);
    const bytes = Buffer.from(await get.arrayBuffer());
    expect([get.status, get.headers.get("content-type"), get.headers.get("content-length"), bytes.subarray(0, 2).toString()]).toEqual([200, "application/efi", String(bytes.length), "MZ"]);
    const head = await fetch(`${base}/local-boot.efi`, { method: "HEAD" });
    expect([head.status, head.headers.get("content-length"), head.headers.get("etag")]).toEqual([200, String(bytes.length), get.headers.get("etag")]);
    expect((await fetch(`${base}/local-boot.efi`, { headers: { "if-none-match": get.headers.get("etag")! } })).status).toBe(304);
    const cfg = await fetch(`${base}/grub.cfg`);
    expect([cfg.status, (await cfg.text()).includes(EFI_STARTING_PREFIX)]).toEqual([200, true]);
    const other = await fetch(`${base}/grubx64.efi`);
    expect([other.status, ((await other.json()) as { error: { code: string } }).error.code]).toEqual([404, "not_found"]);
    expect((await fetch(`${base}/local-boot.efi`, { method: "POST", body: "x" })).status).toBe(405);
    expect((await fetch(`${base}/%E0%A4%A`)).status).toBe(404);
  });

  it(`starts the disk's own loader within ${LIMIT_MS / 1000} s of Kiln's answer, without walking OVMF's network entries`, async () => {
    const r = await bootOnce({ mac: "52:54:00:ef:1b:01", diskPath: disk, ovmfNetworkStack: true, until: `${BOOTED_PREFIX} ${MARKER}`, timeoutMs: 120_000 });
    const loaderMs = r.since(PROBE_LINE);
    const markerMs = r.since(`${BOOTED_PREFIX} ${MARKER}`);
    console.log(`[UEFI local boot] after (chain ${EFI_LOCAL_BOOT_PATH}): ${r.since(EFI_STARTING_PREFIX)} ms from Kiln's answer to Kiln's GRUB starting the disk's loader, ${loaderMs} ms to the loader's first line, ${markerMs} ms to the image's marker; ${BASELINE_NOTE}`);
    // The answer, then the GRUB program from the same server, and nothing else from the machine.
    expect(r.requests.filter((q) => q.path.startsWith("/boot/")).map((q) => [q.path, q.status])).toEqual([
      ["/boot/52-54-00-ef-1b-01", 200],
      [EFI_LOCAL_BOOT_PATH, 200],
    ]);
    expect(r.serial).toContain(`${EFI_STARTING_PREFIX} (hd0,msdos1)/efi/boot/bootx64.efi`);
    expect(r.serial).not.toContain(">>Start PXE");
    expect(r.serial).not.toContain("Start HTTP Boot");
    expect(r.serial).toContain("KILN-FIRMWARE uefi");
    expect(loaderMs).not.toBeNull();
    expect(loaderMs!).toBeLessThanOrEqual(LIMIT_MS);
  }, 180_000);

  it("a disk with no loader: GRUB says so and hands back, and iPXE leaves for the firmware's next entry", async () => {
    const blank = path.join(tmp, "blank.raw");
    await fs.writeFile(blank, "");
    await fs.truncate(blank, 16 * 1024 * 1024);
    // OVMF's own network entries off here: what follows iPXE's exit is the firmware's business, not this test's.
    const r = await bootOnce({ mac: "52:54:00:ef:1b:02", diskPath: blank, ovmfNetworkStack: false, until: EFI_NONE_FOUND, timeoutMs: 90_000 });
    await waitFor(async () => /leaving iPXE for the firmware's next boot entry[\s\S]*BdsDxe: /.test(r.vm.serial()), 30_000, r.vm, "OVMF's next boot entry after iPXE's exit");
    expect(r.vm.serial()).toContain("Kiln: looking for a boot loader on this machine's disks");
    expect(r.vm.serial()).not.toContain(EFI_STARTING_PREFIX);
  }, 180_000);

  it("Secure Boot on: the firmware's PXE → Debian's signed shim and network GRUB → Kiln's grub.cfg → the disk's signed shim, GRUB and kernel", async () => {
    // The TFTP root docs/uefi.md describes: Debian's signed files, and Kiln's script fetched from Kiln.
    const tftp = path.join(tmp, "tftp");
    await fs.mkdir(path.join(tftp, "grub"), { recursive: true });
    await fs.copyFile(SHIM_SIGNED, path.join(tftp, "shimx64.efi"));
    await fs.copyFile(GRUB_NET_SIGNED, path.join(tftp, "grubx64.efi"));
    const cfg = await fetch(`http://127.0.0.1:${port}/boot/efi/grub.cfg`);
    expect(cfg.status).toBe(200);
    await fs.writeFile(path.join(tftp, "grub", "grub.cfg"), await cfg.text());
    // The disk as Debian installs it for Secure Boot (shim, then GRUB beside it, both signed), whose
    // grub.cfg prints a line and boots the image's Debian-signed kernel.
    const sbDisk = path.join(tmp, "secure-boot.raw");
    await fs.copyFile(disk, sbDisk);
    const diskCfg = path.join(tmp, "debian-grub.cfg");
    await fs.writeFile(diskCfg, `echo "${PROBE_LINE} (signed)"\nlinux /vmlinuz console=ttyS0,115200 panic=-1\ninitrd /initrd.img\nboot\n`);
    await copyIntoImage(sbDisk, {
      dirs: ["::/EFI/debian"],
      files: [
        [SHIM_SIGNED, "::/EFI/BOOT/BOOTX64.EFI"],
        [GRUB_SIGNED, "::/EFI/BOOT/grubx64.efi"],
        [diskCfg, "::/EFI/debian/grub.cfg"],
      ],
    });

    const vars = path.join(tmp, "OVMF_VARS.ms.fd");
    await fs.copyFile("/usr/share/OVMF/OVMF_VARS_4M.ms.fd", vars);
    const serialFile = path.join(tmp, "secure-boot-serial.log");
    // Secure Boot OVMF (Microsoft's keys enrolled) needs SMM. No iPXE ROM (romfile=): a Secure
    // Boot lab's firmware boots the network with its own PXE, as real firmware refuses unsigned ROMs.
    const qemu = spawn("qemu-system-x86_64", [
      "-machine", "q35,smm=on", "-global", "driver=cfi.pflash01,property=secure,value=on",
      "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.ms.fd", "-drive", `if=pflash,format=raw,file=${vars}`,
      "-accel", "tcg", "-m", "512", "-smp", "1", "-nodefaults", "-display", "none", "-serial", `file:${serialFile}`, "-monitor", "none", "-no-reboot",
      "-netdev", `user,id=n0,restrict=on,tftp=${tftp},bootfile=shimx64.efi`,
      "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:ef:1b:04,bootindex=1,romfile=",
      "-drive", `file=${sbDisk},format=raw,if=none,id=disk0`, "-device", "virtio-blk-pci,drive=disk0,bootindex=2",
      "-fw_cfg", "name=opt/org.tianocore/IPv6Support,string=no",
    ], { stdio: "ignore" });
    const serial = () => (existsSync(serialFile) ? readFileSync(serialFile, "utf8") : "");
    try {
      await waitFor(async () => serial().includes(`${BOOTED_PREFIX} ${MARKER}`), 240_000, undefined, "the image's marker under Secure Boot").catch((e) => {
        throw new Error(`${(e as Error).message}\n${serial().slice(-3000)}`);
      });
    } finally {
      qemu.kill("SIGKILL");
    }
    const log = serial();
    const order = ["Fetching Netboot Image grubx64.efi", `${EFI_STARTING_PREFIX} (hd0,msdos1)/efi/boot/bootx64.efi`, `${PROBE_LINE} (signed)`, "EFI stub: UEFI Secure Boot is enabled", `${BOOTED_PREFIX} ${MARKER}`];
    expect(order.filter((l) => !log.includes(l))).toEqual([]);
    const at = order.map((l) => log.indexOf(l));
    expect(at).toEqual([...at].sort((a, b) => a - b));
  }, 300_000);

  it.runIf(getProcessEnv().KILN_UEFI_BASELINE === "1")("baseline: `exit 1` (the answer before) reaches the same loader only after OVMF's network entries", async () => {
    exitOnly = true;
    try {
      const r = await bootOnce({ mac: "52:54:00:ef:1b:03", diskPath: disk, ovmfNetworkStack: true, until: `${BOOTED_PREFIX} ${MARKER}`, timeoutMs: 180_000 });
      console.log(`[UEFI local boot] before (exit 1): ${r.since(">>Start PXE over IPv4")} ms to OVMF's first own PXE entry, ${r.since(PROBE_LINE)} ms from Kiln's answer to the disk's loader, ${r.since(`${BOOTED_PREFIX} ${MARKER}`)} ms to the image's marker`);
      expect(r.since(PROBE_LINE)!).toBeGreaterThan(LIMIT_MS);
    } finally {
      exitOnly = false;
    }
  }, 240_000);
});
