// `npm run bench:deploy`: how fast does the deploy agent write an image, next to the best the
// same VM can do? A throwaway Kiln (npm start, empty data directory) deploys an image to a
// QEMU machine (SeaBIOS + iPXE, software emulation, Kiln's deploy ramdisk) through the real
// path: power on by the qemu driver, network boot, agent, HTTP download through slirp,
// decompression (none for raw), sha256, write. The same image is also attached to that VM as a
// second, local disk; after the agent has finished, the ramdisk's init (kiln.bench=/dev/vdb)
// copies it onto the target disk with `dd bs=4M conv=fsync` and prints how long that took.
// Both rates come from the same VM in the same run, so their ratio is what Kiln's path costs
// on top of the disk. Not a test: numbers depend on the machine (see bench/README.md).
//
// Then the same machine's disk is captured into a new image version (read, zstd in 32 MiB
// chunks, uploaded through tus with the run's token); its baseline, in the same VM after the
// agent, is the same disk read and compressed with the same zstd settings into /dev/null.
//
// Options: --size 512 (MiB of image) --uefi --skip-capture
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { qmp } from "@/lib/power/qemu";
import { buildBootableImage } from "@/lab/bootable-image";
import { labMachineFiles, writeLabMachine, type LabMachine } from "@/lab/lab";
import { encodeMetadata } from "@/test/harness/tus";
import { benchApi, startBenchKiln, type BenchKiln } from "./kiln";

const MiB = 1024 * 1024;

async function upload(k: BenchKiln, imageId: string, file: string): Promise<number> {
  const size = (await fsp.stat(file)).size;
  const auth = { authorization: `Bearer ${k.token}`, "tus-resumable": "1.0.0" };
  const created = await fetch(`${k.base}/api/uploads`, { method: "POST", headers: { ...auth, "upload-length": String(size), "upload-metadata": encodeMetadata({ imageId, filename: path.basename(file) }) } });
  if (created.status !== 201) throw new Error(`tus create: ${created.status} ${await created.text()}`);
  const version = Number(created.headers.get("kiln-image-version"));
  const patched = await fetch(`${k.base}${created.headers.get("location")}`, {
    method: "PATCH",
    headers: { ...auth, "upload-offset": "0", "content-type": "application/offset+octet-stream", "content-length": String(size) },
    body: Readable.toWeb(fs.createReadStream(file, { highWaterMark: 4 * MiB })) as ReadableStream,
    // @ts-expect-error Node's fetch needs this for a streaming request body.
    duplex: "half",
  });
  if (patched.status !== 204) throw new Error(`tus patch: ${patched.status} ${await patched.text()}`);
  for (;;) {
    const v = await benchApi<{ state: string; failureReason: string | null }>(k, "GET", `/api/v1/images/${imageId}/versions/${version}`, undefined, 200);
    if (v.state === "ready") return version;
    if (v.state === "failed") throw new Error(`the image version failed: ${v.failureReason}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const rate = (bytes: number, s: number) => `${(bytes / MiB / s).toFixed(1).padStart(7)} MiB/s`;
const stepTimes = (run: any) => run.steps.map((s: any) => `${s.name} ${((Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1)} s`).join(", ");

async function waitForRun(k: BenchKiln, runId: string, what: string): Promise<any> {
  const t0 = Date.now();
  for (;;) {
    const run = await benchApi<any>(k, "GET", `/api/v1/deployments/${runId}`, undefined, 200);
    if (!["pending", "running"].includes(run.state)) {
      if (run.state !== "done") throw new Error(`the ${what} ${run.state}: ${run.failureReason}`);
      return run;
    }
    if (Date.now() - t0 > 20 * 60_000) throw new Error(`the ${what} did not finish within 20 minutes`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function waitForSerial(vm: LabMachine, pattern: RegExp): Promise<RegExpExecArray> {
  const serial = () => (fs.existsSync(vm.serialLog) ? fs.readFileSync(vm.serialLog, "utf8") : "");
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const m = pattern.exec(serial());
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`no ${pattern} on the serial console:\n${serial().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The capture phase: agent (read → zstd chunks → tus) vs read → zstd → /dev/null, same VM. */
async function measureCapture(k: BenchKiln, vm: LabMachine, hostId: string): Promise<void> {
  // The deployed image boots, prints its marker and powers off; the capture starts from off.
  const off = Date.now() + 5 * 60_000;
  while ((await qmp(vm.qmpSocket, "query-status").catch(() => null)) !== null) {
    if (Date.now() > off) throw new Error("the machine did not power off after booting the deployed image");
    await new Promise((r) => setTimeout(r, 500));
  }
  const { id: targetId } = await benchApi<{ id: string }>(k, "POST", "/api/v1/images", { name: "bench-capture" }, 201);
  console.log(`\ncapturing the machine's disk into a new image version…`);
  const run = await benchApi<{ id: string }>(k, "POST", `/api/v1/hosts/${hostId}/deployments`, { action: "capture_disk", imageId: targetId, disk: "vda", vars: { kernel_args: "kiln.bench=capture" } }, 201);
  const done = await waitForRun(k, run.id, "capture");
  const line = (re: RegExp) => {
    const l = done.logs.find((x: any) => re.test(x.line));
    if (!l) throw new Error(`no log line ${re} in the capture run`);
    return { at: Date.parse(l.at), m: re.exec(l.line)! };
  };
  const started = line(/^capturing \S+ \((\d+) bytes\) in (\d+) chunks/);
  const sent = line(/^sent (\d+) bytes/);
  const diskBytes = Number(started.m[1]);
  const agentSeconds = (sent.at - started.at) / 1000;
  const m = await waitForSerial(vm, /KILN-BENCH capture bytes=(\d+) seconds=([\d.]+)/);
  const localSeconds = Number(m[2]);
  console.log(`\ncapture steps: ${stepTimes(done)}`);
  console.log(`compressed to ${sent.m[1]} bytes in ${started.m[2]} chunks (the disk is the deployed image: mostly zeros)`);
  console.log(`\n                                            disk bytes   seconds   rate`);
  console.log(`  Kiln capture agent (disk → zstd → tus)  ${String(diskBytes).padStart(12)}   ${agentSeconds.toFixed(2).padStart(7)}   ${rate(diskBytes, agentSeconds)}`);
  console.log(`  read + zstd to /dev/null, same VM       ${String(Number(m[1])).padStart(12)}   ${localSeconds.toFixed(2).padStart(7)}   ${rate(Number(m[1]), localSeconds)}`);
  console.log(`\n  ratio agent / local read+zstd: ${(diskBytes / agentSeconds / (Number(m[1]) / localSeconds)).toFixed(2)}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { size: { type: "string", default: "512" }, uefi: { type: "boolean", default: false }, "skip-capture": { type: "boolean", default: false } } });
  const sizeMb = Number(values.size);
  if (!Number.isInteger(sizeMb) || sizeMb < 32) throw new Error("--size is the image size in MiB, at least 32");
  console.log(`starting Kiln (npm start) with an empty data directory…`);
  const k = await startBenchKiln("deploy", { KILN_BOOT_URL: "http://10.0.2.100" });
  let vm: LabMachine | null = null;
  try {
    const image = path.join(k.tmp, "bench.img");
    const marker = `bench-${Date.now().toString(36)}`;
    console.log(`building a ${sizeMb} MiB bootable image…`);
    await buildBootableImage({ kernelPath: path.join(k.dataDir, "ramdisk", "vmlinuz"), outPath: image, marker, sizeMb });
    const size = (await fsp.stat(image)).size;
    const { id: imageId } = await benchApi<{ id: string }>(k, "POST", "/api/v1/images", { name: "bench" }, 201);
    const version = await upload(k, imageId, image);

    const dir = path.join(k.tmp, "vm");
    vm = {
      name: "bench-01",
      mac: "52:54:00:4b:42:01",
      ...labMachineFiles(dir),
      uefi: values.uefi === true,
      memoryMb: 512,
      diskBytes: size + 64 * MiB,
      extraDrives: [image],
    };
    await writeLabMachine(vm, { host: "127.0.0.1", port: k.port });
    const pool = await benchApi<{ id: string }>(k, "POST", "/api/v1/pools", { name: "bench" }, 201);
    const project = await benchApi<{ id: string }>(k, "POST", "/api/v1/projects", { name: "bench" }, 201);
    const me = (await benchApi<{ user: { id: string } }>(k, "GET", "/api/v1/me", undefined, 200)).user;
    await benchApi(k, "POST", `/api/v1/projects/${project.id}/members`, { email: k.email }, 201);
    const host = await benchApi<{ id: string }>(k, "POST", "/api/v1/hosts", {
      name: vm.name,
      poolId: pool.id,
      interfaces: [{ mac: vm.mac, isPxe: true }],
      power: { driver: "qemu", params: { qmpSocket: vm.qmpSocket, launch: vm.launch } },
    }, 201);
    await benchApi(k, "POST", "/api/v1/leases", { hostIds: [host.id], userId: me.id, projectId: project.id, durationHours: 2 }, 201);

    console.log(`deploying ${(size / MiB).toFixed(0)} MiB to a QEMU machine (TCG) through Kiln's deploy ramdisk…`);
    const run = await benchApi<{ id: string }>(k, "POST", `/api/v1/hosts/${host.id}/deployments`, {
      action: "deploy_image",
      imageId,
      imageVersion: version,
      disk: "vda",
      vars: { kernel_args: "kiln.bench=/dev/vdb" },
    }, 201);
    const done = await waitForRun(k, run.id, "deploy");
    const m = await waitForSerial(vm, /KILN-BENCH dd bytes=(\d+) seconds=([\d.]+)/);
    const step = (name: string) => done.steps.find((s: any) => s.name === name);
    const write = step("write");
    const writeSeconds = (Date.parse(write.finishedAt) - Date.parse(write.startedAt)) / 1000;
    const ddBytes = Number(m[1]);
    const ddSeconds = Number(m[2]);
    const agentRate = size / writeSeconds;
    const ddRate = ddBytes / ddSeconds;
    console.log(`\nsteps: ${stepTimes(done)}`);
    console.log(`\n                                       bytes        seconds   rate`);
    console.log(`  Kiln deploy agent (HTTP → disk)   ${String(size).padStart(12)}   ${writeSeconds.toFixed(2).padStart(7)}   ${rate(size, writeSeconds)}`);
    console.log(`  dd from a local disk, same VM     ${String(ddBytes).padStart(12)}   ${ddSeconds.toFixed(2).padStart(7)}   ${rate(ddBytes, ddSeconds)}`);
    console.log(`\n  ratio agent / local dd: ${(agentRate / ddRate).toFixed(2)}`);
    if (!values["skip-capture"]) await measureCapture(k, vm, host.id);
  } finally {
    if (vm) await qmp(vm.qmpSocket, "quit").catch(() => null);
    await k.stop();
  }
}

main().catch((e) => {
  console.error(`bench:deploy failed: ${(e as Error).message}`);
  process.exit(1);
});
