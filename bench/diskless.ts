// `npm run bench:diskless`: diskless boot (docs/diskless.md) against writing the disk, and the
// cost of a copy-on-write overlay against copying the version. Not a test: numbers depend on
// the machine (bench/README.md).
//
// Rows:
//   boot:    time from "deploy" (QEMU started; the run exists) to the image's first user-space
//            line on the serial console (its /sbin/init's KILN-DISKLESS-UP), for the same root
//            image (--image-mib, default 256) booted
//              diskless — Kiln's deploy ramdisk with kiln.nbd, qcow2 overlay made at "deploy",
//                         qemu-nbd export, nbd-client + switch_root (the real init), and
//              disk     — the same ramdisk whose agent writes the whole image to the virtio disk
//                         (curl | dd, conv=fsync) and then starts the written root's /sbin/init in
//                         a chroot. A real deploy then also reboots through the firmware into
//                         the disk (+10–15 s under TCG), so this row is a lower bound.
//            Each in its own fresh VM (TCG, 1 vCPU, 512 MB), one after the other, --runs times.
//   overlay: qemu-img create -b of a qcow2 overlay on a sparse raw version of 1 GiB and 10 GiB,
//            against `cp --reflink=never` (a sparse-aware copy) and `dd bs=4M` (every byte) of the
//            same file, on the same file system.
// The machine side is served by a small node:http server (iPXE script, ramdisk, image, agent);
// Kiln's database is left out on purpose: it decides the answer, it does not move bytes.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import fsp from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { promisify } from "node:util";
import { ensureRamdisk } from "@/lib/boot/ramdisk";
import { createOverlay, newExportName, startNbdExport } from "@/lib/exports/nbd";
import { buildDisklessRootImage } from "@/test/harness/diskless-image";
import { GUEST_KILN_URL, startVm, waitFor } from "@/test/harness/qemu";

const run = promisify(execFile);
const MiB = 1024 * 1024;
const MAC = "52:54:00:b6:00:01";
const NBD_GUEST = "10.0.2.101";
const { values: args } = parseArgs({ options: { "image-mib": { type: "string", default: "256" }, runs: { type: "string", default: "1" }, "skip-boot": { type: "boolean", default: false }, "skip-overlay": { type: "boolean", default: false } } });
const imageMib = Number(args["image-mib"]);
const runs = Number(args.runs);

const AGENT_DISK = `#!/bin/sh
# bench: the disk path's minimum — write every byte, then start the written system.
curl -fsS "$KILN_URL/root.img" | dd of=/dev/vda bs=1M iflag=fullblock conv=fsync 2>/dev/null || exit 1
echo "kiln-bench: image written at $(cut -d' ' -f1 /proc/uptime)s"
blockdev --rereadpt /dev/vda
sleep 0.3
mkdir -p /newroot && mount -t ext4 /dev/vda1 /newroot || exit 1
mount --bind /proc /newroot/proc
exec chroot /newroot /sbin/init
`;

async function serve(dir: string, files: Record<string, string>, ipxe: () => string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method === "POST") {
      req.resume();
      res.end("ok\n");
      return;
    }
    if (url.pathname.startsWith("/boot/") && url.pathname.endsWith("/agent")) return void res.end(AGENT_DISK);
    if (url.pathname.startsWith("/boot/")) return void res.end(ipxe());
    const file = files[url.pathname];
    if (!file) return void res.writeHead(404).end();
    const st = await fsp.stat(file);
    res.writeHead(200, { "content-length": st.size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

function script(kind: "diskless" | "disk", nbd: string): string {
  const common = `kernel ${GUEST_KILN_URL}/vmlinuz initrd=initrd.img panic=-1 quiet console=ttyS0,115200 kiln.url=${GUEST_KILN_URL} kiln.mac=${MAC}`;
  const line = kind === "diskless" ? `${common} kiln.action=diskless kiln.nbd=${nbd}` : `${common} kiln.token=benchbenchbenchbenchbench kiln.action=deploy`;
  return `#!ipxe\n${line}\ninitrd ${GUEST_KILN_URL}/initrd.img\nboot\n`;
}

async function bootRow(kind: "diskless" | "disk", tmp: string, image: string, ramdisk: string): Promise<number> {
  const disk = path.join(tmp, `disk-${kind}.raw`);
  await fsp.writeFile(disk, "");
  await fsp.truncate(disk, (imageMib + 16) * MiB);
  let nbd = "";
  let stopExport = async () => {};
  const t0 = performance.now();
  if (kind === "diskless") {
    // "Deploy": the overlay and its export are made now, inside the measured time.
    const overlay = path.join(tmp, `overlay-${randomBytes(3).toString("hex")}.qcow2`);
    await createOverlay({ base: image, baseFormat: "raw", overlay });
    const exp = await startNbdExport({ file: overlay, format: "qcow2", bindAddress: "127.0.0.1", exportName: newExportName() });
    nbd = `${NBD_GUEST}:${exp.port}/${exp.exportName}`;
    stopExport = exp.stop;
  }
  const srv = await serve(tmp, { "/vmlinuz": path.join(ramdisk, "vmlinuz"), "/initrd.img": path.join(ramdisk, "initrd.img"), "/root.img": image }, () => script(kind, nbd));
  const port = nbd ? Number(nbd.split(":")[1]!.split("/")[0]) : 0;
  const vm = await startVm({ mac: MAC, kilnPort: srv.port, diskPath: disk, memoryMb: 512, bootfile: `${GUEST_KILN_URL}/boot/x`, guestForwards: port ? [{ address: NBD_GUEST, port, hostPort: port }] : [] });
  try {
    await waitFor(async () => vm.serial().includes("KILN-DISKLESS-UP"), 600_000, vm, `the ${kind} system's first line`);
    return (performance.now() - t0) / 1000;
  } finally {
    await vm.stop();
    await srv.close();
    await stopExport();
  }
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function overlayRow(tmp: string, gib: number): Promise<{ overlay: number; cp: number; dd: number }> {
  const base = path.join(tmp, `base-${gib}g.raw`);
  // A version with data at its start and end, holes between (as a fresh cloud image is).
  await fsp.writeFile(base, randomBytes(4 * MiB));
  await fsp.truncate(base, gib * 1024 * MiB);
  const fd = await fsp.open(base, "r+");
  await fd.write(randomBytes(4 * MiB), 0, 4 * MiB, gib * 1024 * MiB - 4 * MiB);
  await fd.close();
  const overlays: number[] = [];
  for (let i = 0; i < 5; i++) overlays.push(await timeIt(() => createOverlay({ base, baseFormat: "raw", overlay: path.join(tmp, `o-${gib}-${i}.qcow2`) })));
  overlays.sort((a, b) => a - b);
  const cp = await timeIt(() => run("cp", ["--reflink=never", base, path.join(tmp, `cp-${gib}.raw`)]));
  await fsp.rm(path.join(tmp, `cp-${gib}.raw`));
  const dd = await timeIt(() => run("dd", [`if=${base}`, `of=${path.join(tmp, `dd-${gib}.raw`)}`, "bs=4M", "conv=fsync", "status=none"]));
  await fsp.rm(path.join(tmp, `dd-${gib}.raw`));
  await fsp.rm(base);
  return { overlay: overlays[2]!, cp, dd };
}

async function main() {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-bench-diskless-"));
  try {
    console.log(`# bench:diskless — ${new Date().toISOString()} — ${os.hostname()}, ${os.cpus().length}× ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 1024 ** 3)} GB`);
    console.log("\n## overlay creation vs copying the version (same file system)\n");
    console.log("| version | qemu-img create -b (median of 5) | cp --reflink=never | dd bs=4M conv=fsync | dd / overlay |");
    console.log("|---|---|---|---|---|");
    for (const gib of args["skip-overlay"] ? [] : [1, 10]) {
      const r = await overlayRow(tmp, gib);
      console.log(`| ${gib} GiB sparse raw (8 MiB data) | ${(r.overlay * 1000).toFixed(0)} ms | ${r.cp.toFixed(2)} s | ${r.dd.toFixed(1)} s | ${(r.dd / r.overlay).toFixed(0)}× |`);
    }
    if (args["skip-boot"]) return;
    const ramdisk = path.join(tmp, "ramdisk");
    await ensureRamdisk({ dir: ramdisk, log: () => {} });
    const image = path.join(tmp, "root.img");
    await buildDisklessRootImage(image, imageMib);
    console.log(`\n## deploy → first user-space line, ${imageMib} MiB root image (TCG, 1 vCPU, 512 MB)\n`);
    console.log("| run | diskless (overlay + NBD) | disk write (curl | dd, then chroot) | disk / diskless |");
    console.log("|---|---|---|---|");
    for (let i = 1; i <= runs; i++) {
      const diskless = await bootRow("diskless", tmp, image, ramdisk);
      const disk = await bootRow("disk", tmp, image, ramdisk);
      console.log(`| ${i} | ${diskless.toFixed(1)} s | ${disk.toFixed(1)} s | ${(disk / diskless).toFixed(2)}× |`);
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

await main();
