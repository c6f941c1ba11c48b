// The deploy agent (boot/agent/*.sh, joined as the ramdisk gets it) run for real with the
// system's sh against Kiln's machine-facing routes over HTTP, writing to a plain file that
// stands in for the disk (KILN_DEV): the image lands byte for byte and the run is done; a
// checksum that does not match and a disk that does not exist fail the run with their reason.
import { bootRoutes, FakeMachine, seedReadyImage, startBootServer, startVerifier } from "@/test/harness/provisioning";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { readAgentScript } from "@/boot/agent/agent-script";
import { gzipSync, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actorOf, type Actor } from "@/lib/access/actor";
import { createHost } from "@/lib/hosts/hosts";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createLease } from "@/lib/leases/leases";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { syncBuiltinTemplates } from "@/lib/templates/templates";
import { getImageVersionRow, updateImageVersionFrom } from "@/db/queries/images";
import { listLeaseEventRows } from "@/db/queries/leases";
import { listAddressesOfHosts } from "@/db/queries/addresses";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import type { RouteServer } from "@/test/harness/http-server";
import { cancelDeployment } from "./commands";
import { getDeployment } from "./views";
import { startDeployment } from "./start";
import { getProcessEnv } from "@/lib/env";
import { scanBlockMap } from "@/lib/images/block-map";
import { getImageStorage } from "@/lib/images/storage";

const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-agent-"));
setTestEnvDefaults({ KILN_DATA_DIR: path.join(tmp, "data") });
// The agent as the ramdisk gets it: its parts joined (boot/agent/agent-script.ts).
const SCRIPT = path.join(tmp, "kiln-agent.sh");
await fs.writeFile(SCRIPT, await readAgentScript());

let admin: Actor;
let holder: Actor;
let projectId: string;
let server: RouteServer;
let n = 0;

beforeAll(async () => {
  admin = actorOf((await createActiveUser(t.db, { admin: true })).user, null);
  holder = actorOf((await createActiveUser(t.db)).user, null);
  projectId = (await createProject(t.db, admin, { name: "agent" })).id;
  await addProjectMember(t.db, admin, projectId, { userId: holder.user!.id });
  await syncBuiltinTemplates(t.db);
  server = await startBootServer();
  setTestEnvDefaults({ KILN_BOOT_URL: server.url });
});
afterAll(async () => {
  await server?.close();
  await stopJobSender();
  await fs.rm(tmp, { recursive: true, force: true });
});

/** A held host whose machine has network-booted the run (as iPXE would), and a fake /dev. */
async function bootedRun(body: Record<string, unknown>) {
  const mac = `52:54:00:c0:00:${(++n).toString(16).padStart(2, "0")}`;
  const host = await createHost(t.db, admin, { name: `agent-${n}`, interfaces: [{ mac }] });
  await createLease(t.db, admin, { hostIds: [host.id], userId: holder.user!.id, projectId });
  const run = await startDeployment(t.db, holder, host.id, body);
  const machine = new FakeMachine(server, mac);
  await machine.boot();
  const dev = path.join(tmp, `dev-${n}`);
  await fs.mkdir(dev);
  return { run, machine, dev, mac };
}

function runAgent(p: { mac: string; token: string; dev: string; path?: string }): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "sh",
      [SCRIPT],
      { env: { PATH: p.path ?? getProcessEnv().PATH, KILN_URL: server.url, KILN_MAC: p.mac, KILN_TOKEN: p.token, KILN_DEV: p.dev, TMPDIR: p.dev } as unknown as NodeJS.ProcessEnv, timeout: 30_000 },
      (err: Error | null, _stdout: string, stderr: string) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

/** Runs the host's sfdisk (util-linux) on a file. */
function sfdisk(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile("sfdisk", args, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    // --dump does not read its input: it may be gone before the (empty) write.
    child.stdin!.on("error", () => {});
    child.stdin!.end(input ?? "");
  });
}

/**
 * Passes `bytes` of a stream on, then (300 ms later, so they get through) kills the server —
 * every connection cut, the port closed — and restarts it 1.5 s later, as a killed and
 * restarted web process would. The stream then hangs (a response) or errors (a request body).
 */
function dieAfter(stream: ReadableStream<Uint8Array>, bytes: number, then: "hang" | "error"): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  let passed = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (passed >= bytes) {
        await new Promise((r) => setTimeout(r, 300));
        await server.kill();
        setTimeout(() => void server.restart(), 1500);
        if (then === "hang") return new Promise(() => {});
        c.error(new Error("connection cut"));
        return;
      }
      const { done, value } = await reader.read();
      if (done) return c.close();
      passed += value.length;
      c.enqueue(value);
    },
  });
}

describe("the deploy agent script", () => {
  it("writes the image to the disk byte for byte, reports inventory and progress, and the run is done", async () => {
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, bytes: randomBytes(3 * 1024 * 1024 + 17) });
    const { run, machine, dev, mac } = await bootedRun({ action: "deploy_image", imageId: img.image.id, disk: "vda" });
    await fs.writeFile(path.join(dev, "vda"), "");
    const result = await runAgent({ mac, token: machine.token!, dev });
    expect(result).toMatchObject({ code: 0 });
    expect((await fs.readFile(path.join(dev, "vda"))).equals(img.bytes)).toBe(true);
    const view = await getDeployment(t.db, holder, run.id);
    expect(view.state).toBe("done");
    expect(view.steps.map((s) => s.state)).toEqual(["done", "done", "done", "done", "done"]);
    expect(view.progress.bytesWritten).toBe(img.bytes.length);
    expect(view.logs.map((l) => l.line)).toEqual(expect.arrayContaining([`writing ${img.bytes.length} bytes (raw) to ${dev}/vda`, `done: ${img.bytes.length} bytes, sha256 ${img.sha256}`]));
    expect(view.logs.some((l) => l.line.startsWith("inventory recorded:"))).toBe(true);
    // Each NIC's addresses went with the inventory (`ip -o addr`; the script runs on this
    // machine, so its interfaces are this machine's): the routable IPv4 ones are the host's now.
    const here = Object.values(os.networkInterfaces()).flat().filter((i) => i && !i.internal && i.family === "IPv4" && !i.address.startsWith("169.254.")).map((i) => i!.address);
    const learned = (await listAddressesOfHosts(t.db, [run.hostId])).filter((a) => a.source === "agent").map((a) => a.address);
    // A machine with no network interface but loopback has nothing to report.
    expect(learned).toEqual(expect.arrayContaining(here));
    if (here.length > 0) expect(learned.length).toBeGreaterThan(0);
  });

  it("resumes with Range where it stopped when the server dies mid-image, and the image lands intact", async () => {
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, bytes: randomBytes(6 * 1024 * 1024 + 5) });
    const { run, machine, dev, mac } = await bootedRun({ action: "deploy_image", imageId: img.image.id, disk: "vda" });
    await fs.writeFile(path.join(dev, "vda"), "");
    // The first blob response stops after ~1 MiB and the server goes away (every connection
    // cut, port closed) for 1.5 s, as a killed and restarted web process would.
    const ranges: string[] = [];
    let cut = false;
    server.setHandler(async (req) => {
      const res = await bootRoutes(req);
      if (!new URL(req.url).pathname.endsWith("/blob") || req.method !== "GET") return res;
      ranges.push(req.headers.get("range") ?? "none");
      if (cut) return res;
      cut = true;
      return new Response(dieAfter(res.body!, 1024 * 1024, "hang"), { status: res.status, headers: res.headers });
    });
    try {
      const result = await runAgent({ mac, token: machine.token!, dev });
      expect(result, result.stderr).toMatchObject({ code: 0 });
    } finally {
      server.setHandler(bootRoutes);
    }
    expect(ranges[0]).toBe("none");
    expect(ranges.length).toBeGreaterThanOrEqual(2);
    expect(ranges.at(-1)).toMatch(/^bytes=[1-9]\d*-$/);
    expect((await fs.readFile(path.join(dev, "vda"))).equals(img.bytes)).toBe(true);
    const view = await getDeployment(t.db, holder, run.id);
    expect(view.state).toBe("done");
    expect(view.logs.some((l) => /^download interrupted at byte \d+ .*resuming from there/.test(l.line))).toBe(true);
  });

  it.each([
    ["gzip", (b: Buffer) => gzipSync(b)],
    ["zstd", (b: Buffer) => zstdCompressSync(b)],
  ] as const)("decompresses a %s image on the fly and checks the compressed bytes' sha256", async (format, compress) => {
    const disk = Buffer.concat([randomBytes(512 * 1024), Buffer.alloc(2 * 1024 * 1024), randomBytes(1000)]);
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, bytes: compress(disk), format });
    const { run, machine, dev, mac } = await bootedRun({ action: "deploy_image", imageId: img.image.id, disk: "vda" });
    await fs.writeFile(path.join(dev, "vda"), "");
    expect(await runAgent({ mac, token: machine.token!, dev })).toMatchObject({ code: 0 });
    expect((await fs.readFile(path.join(dev, "vda"))).equals(disk)).toBe(true);
    expect((await getDeployment(t.db, holder, run.id)).state).toBe("done");
  });

  it("fails the run with “checksum mismatch” when the bytes are not the image's", async () => {
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    const { run, machine, dev, mac } = await bootedRun({ action: "deploy_image", imageId: img.image.id, disk: "vda" });
    await fs.writeFile(path.join(dev, "vda"), "");
    // What Kiln believes the image is differs from what it serves: the agent must notice.
    expect(await updateImageVersionFrom(t.db, { imageId: img.image.id, version: 1, from: "ready" }, { sha256: "0".repeat(64) })).toMatchObject({ sha256: "0".repeat(64) });
    expect((await runAgent({ mac, token: machine.token!, dev })).code).not.toBe(0);
    const view = await getDeployment(t.db, holder, run.id);
    expect(view.state).toBe("failed");
    expect(view.failureReason).toBe(`Verify the written image: checksum mismatch: expected ${"0".repeat(64)}, got ${img.sha256} — the image was corrupted on the way or in storage; the disk was left without a partition table, so it does not boot`);
  });

  it("clears the old partition table before writing and writes the image's first MiB only after its checksum matched: a mismatch leaves no partition table", async () => {
    // The image and the disk's old contents both carry a real MBR partition table.
    const labelled = async (name: string, mib: number) => {
      const file = path.join(tmp, name);
      await fs.writeFile(file, Buffer.concat([Buffer.alloc(1024 * 1024), randomBytes((mib - 1) * 1024 * 1024)]));
      await sfdisk(["--quiet", file], "label: dos\nstart=2048, type=83, bootable\n");
      return fs.readFile(file);
    };
    const image = await labelled("labelled.img", 3);
    const old = await labelled("old-disk.img", 4);
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, bytes: image });
    const { run, machine, dev, mac } = await bootedRun({ action: "deploy_image", imageId: img.image.id, disk: "vda" });
    const disk = path.join(dev, "vda");
    await fs.writeFile(disk, old);
    expect((await sfdisk(["--dump", disk])).code).toBe(0);
    await updateImageVersionFrom(t.db, { imageId: img.image.id, version: 1, from: "ready" }, { sha256: "0".repeat(64) });
    expect((await runAgent({ mac, token: machine.token!, dev })).code).not.toBe(0);
    expect((await getDeployment(t.db, holder, run.id)).failureReason).toMatch(/checksum mismatch: .* the disk was left without a partition table, so it does not boot$/);
    const after = await fs.readFile(disk);
    // Everything after the first MiB is the image's; the first MiB (MBR) and the last MiB are zero.
    expect(after.subarray(0, 1024 * 1024).equals(Buffer.alloc(1024 * 1024))).toBe(true);
    expect(after.subarray(1024 * 1024, image.length).equals(image.subarray(1024 * 1024))).toBe(true);
    expect(after.subarray(after.length - 1024 * 1024).equals(Buffer.alloc(1024 * 1024))).toBe(true);
    const dump = await sfdisk(["--dump", disk]);
    expect(dump.code).not.toBe(0);
    expect(dump.stderr).toMatch(/does not contain a recognized partition table/);
  });

  it("writes a disk that had a partition table with the image's own, byte for byte, when the checksum matches", async () => {
    const image = Buffer.concat([Buffer.alloc(1024 * 1024), randomBytes(2 * 1024 * 1024)]);
    const imgFile = path.join(tmp, "labelled-ok.img");
    await fs.writeFile(imgFile, image);
    await sfdisk(["--quiet", imgFile], "label: dos\nstart=2048, type=83\n");
    const bytes = await fs.readFile(imgFile);
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, bytes });
    const { run, machine, dev, mac } = await bootedRun({ action: "deploy_image", imageId: img.image.id, disk: "vda" });
    const disk = path.join(dev, "vda");
    await fs.writeFile(disk, Buffer.alloc(5 * 1024 * 1024, 0xaa));
    expect(await runAgent({ mac, token: machine.token!, dev })).toMatchObject({ code: 0 });
    const after = await fs.readFile(disk);
    expect(after.subarray(0, bytes.length).equals(bytes)).toBe(true);
    expect((await sfdisk(["--dump", disk])).stdout).toMatch(/start=\s*2048/);
    const view = await getDeployment(t.db, holder, run.id);
    expect(view.state).toBe("done");
    expect(view.progress.bytesWritten).toBe(bytes.length);
    expect(view.logs.some((l) => l.line === `wrote ${bytes.length} bytes to ${disk}, its first MiB last; sha256 of the delivered image matches`)).toBe(true);
  });

  it("stops writing when the run is cancelled mid-write (its progress report answered 409), and never writes the image's first MiB", async () => {
    const image = Buffer.concat([Buffer.alloc(1024 * 1024, 0x55), randomBytes(5 * 1024 * 1024)]);
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, bytes: image });
    const { run, machine, dev, mac } = await bootedRun({ action: "deploy_image", imageId: img.image.id, disk: "vda" });
    const disk = path.join(dev, "vda");
    await fs.writeFile(disk, Buffer.alloc(8 * 1024 * 1024, 0xaa));
    // The blob pauses after 3 MiB until the agent has heard that the run ended.
    let passed = 0;
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    const progressAnswers: number[] = [];
    server.setHandler(async (req) => {
      const res = await bootRoutes(req);
      const url = new URL(req.url).pathname;
      if (url.endsWith("/progress")) {
        progressAnswers.push(res.status);
        if (res.status === 409) setTimeout(release, 200);
        return res;
      }
      if (!url.endsWith("/blob") || req.method !== "GET") return res;
      const reader = res.body!.getReader();
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(c) {
            if (passed >= 3 * 1024 * 1024) await held;
            const { done, value } = await reader.read();
            if (done) return c.close();
            passed += value.length;
            c.enqueue(value);
          },
        }),
        { status: res.status, headers: res.headers },
      );
    });
    try {
      const agent = runAgent({ mac, token: machine.token!, dev });
      const deadline = Date.now() + 20_000;
      while (passed < 3 * 1024 * 1024 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(passed).toBeGreaterThanOrEqual(3 * 1024 * 1024);
      await cancelDeployment(t.db, holder, run.id);
      const result = await agent;
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("the run ended in Kiln while the image was being written (cancelled?); stopped, the disk was left without a partition table");
      expect(progressAnswers).toContain(409);
    } finally {
      release();
      server.setHandler(bootRoutes);
    }
    const after = await fs.readFile(disk);
    expect(after.subarray(0, 1024 * 1024).equals(Buffer.alloc(1024 * 1024))).toBe(true);
    expect((await getDeployment(t.db, holder, run.id)).state).toBe("cancelled");
  });

  it("captures a disk through tus in zstd chunks; Kiln verifies it and it becomes the image's next version", async () => {
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    setTestEnvDefaults({ KILN_CAPTURE_CHUNK_MIB: "4" });
    const { run, machine, dev, mac } = await bootedRun({ action: "capture_disk", imageId: img.image.id, disk: "vda" });
    const content = Buffer.concat([randomBytes(5 * 1024 * 1024), Buffer.alloc(4 * 1024 * 1024), randomBytes(1000)]);
    await fs.writeFile(path.join(dev, "vda"), content);
    const verifier = startVerifier(t.db);
    try {
      expect(await runAgent({ mac, token: machine.token!, dev })).toMatchObject({ code: 0 });
    } finally {
      await verifier.stop();
      setTestEnvDefaults({ KILN_CAPTURE_CHUNK_MIB: undefined });
    }
    const view = await getDeployment(t.db, holder, run.id);
    expect(view).toMatchObject({ state: "done", image: { version: 2 } });
    // Progress counts the disk's bytes read, against the disk's size.
    expect(view.progress).toMatchObject({ bytesWritten: content.length, totalBytes: content.length });
    expect(view.logs.map((l) => l.line)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^capturing ${dev}/vda \\(${content.length} bytes\\) in 3 chunks of 4 MiB, compressed with zstd, to ${server.url}/api/uploads/[0-9a-f]+$`))]));
    const v2 = await getImageVersionRow(t.db, { imageId: img.image.id, version: 2 });
    expect(v2).toMatchObject({ state: "ready", format: "zstd" });
    const stored = await fs.readFile(path.join(tmp, "data", "images", v2!.storageKey!));
    expect(v2!.sha256).toBe(createHash("sha256").update(stored).digest("hex"));
    // Three zstd frames in a row: one stream whose bytes are the disk's.
    expect(zstdDecompressSync(stored).equals(content)).toBe(true);
  });

  it("resumes a capture from the offset Kiln kept when the server dies mid-chunk", async () => {
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id });
    setTestEnvDefaults({ KILN_CAPTURE_CHUNK_MIB: "4" });
    const { run, machine, dev, mac } = await bootedRun({ action: "capture_disk", imageId: img.image.id, disk: "vda" });
    // Random bytes do not compress: each 4 MiB chunk stays ~4 MiB, so the cut lands inside one.
    const content = randomBytes(10 * 1024 * 1024);
    await fs.writeFile(path.join(dev, "vda"), content);
    // The second PATCH's body stops after 1 MiB and the server goes away for 1.5 s.
    const seen: string[] = [];
    let patches = 0;
    server.setHandler(async (req) => {
      if (new URL(req.url).pathname.startsWith("/api/uploads")) seen.push(`${req.method} ${req.headers.get("upload-offset") ?? ""}`.trim());
      if (req.method !== "PATCH" || ++patches !== 2) return bootRoutes(req);
      const body = dieAfter(req.body!, 1024 * 1024, "error");
      // @ts-expect-error Node's fetch needs this for a streaming request body.
      return bootRoutes(new Request(req, { body, duplex: "half" }));
    });
    const verifier = startVerifier(t.db);
    try {
      const result = await runAgent({ mac, token: machine.token!, dev });
      expect(result, result.stderr).toMatchObject({ code: 0 });
    } finally {
      server.setHandler(bootRoutes);
      await verifier.stop();
      setTestEnvDefaults({ KILN_CAPTURE_CHUNK_MIB: undefined });
    }
    // Create, PATCH 0, PATCH at chunk 2 (cut), HEAD, PATCH from the kept offset (inside chunk 2), PATCH chunk 3.
    const patchOffsets = seen.filter((r) => r.startsWith("PATCH")).map((r) => Number(r.split(" ")[1]));
    expect(seen[0]).toBe("POST");
    expect(seen).toContain("HEAD");
    expect(patchOffsets.length).toBe(4);
    expect(patchOffsets[2]).toBeGreaterThan(patchOffsets[1]!);
    expect(patchOffsets[2]).toBeLessThan(patchOffsets[3]!);
    const view = await getDeployment(t.db, holder, run.id);
    expect(view.state, view.failureReason ?? "").toBe("done");
    expect(view.logs.some((l) => /^upload interrupted at byte \d+ .*asking Kiln where to resume/.test(l.line))).toBe(true);
    const v2 = await getImageVersionRow(t.db, { imageId: img.image.id, version: 2 });
    const stored = await fs.readFile(path.join(tmp, "data", "images", v2!.storageKey!));
    expect(zstdDecompressSync(stored).equals(content)).toBe(true);
  });

  it.each(["quick", "full"] as const)("wipes a disk (%s) and leaves an erase record on the lease", async (wipeMode) => {
    const { run, machine, dev, mac } = await bootedRun({ action: "wipe_disk", disk: "vda", wipeMode });
    const before = Buffer.concat([randomBytes(80 * 1024 * 1024), Buffer.from("the last holder's data")]);
    await fs.writeFile(path.join(dev, "vda"), before);
    expect(await runAgent({ mac, token: machine.token!, dev })).toMatchObject({ code: 0 });
    const after = await fs.readFile(path.join(dev, "vda"));
    expect(after.length).toBe(before.length);
    expect(after.subarray(0, 64 * 1024 * 1024).every((b) => b === 0)).toBe(true);
    // 80 MiB is under 128 MiB: quick zeroes only the head (and the signatures); full zeroes all.
    expect(after.subarray(64 * 1024 * 1024).every((b) => b === 0)).toBe(wipeMode === "full");
    const view = await getDeployment(t.db, holder, run.id);
    // The power-off that follows is the worker's (not running here); the wipe itself is done.
    expect(view.steps.find((s) => s.name === "wipe")?.state).toBe("done");
    const [event] = (await listLeaseEventRows(t.db, view.leaseId!)).map((r) => r.event).filter((e) => e.kind === "erased");
    expect(event).toMatchObject({ kind: "erased", data: { mode: wipeMode, deploymentId: run.id, disks: [{ disk: "vda", sizeBytes: before.length, method: expect.stringContaining(wipeMode === "full" ? "every byte zeroed" : "first and last 64 MiB zeroed") }] } });
    expect(event!.message).toContain(`${wipeMode} wipe of vda (${before.length} bytes`);
  });

  it("fails the run with “disk … not found” when the chosen disk does not exist", async () => {
    const { run, machine, dev, mac } = await bootedRun({ action: "wipe_disk", disk: "sdz" });
    expect((await runAgent({ mac, token: machine.token!, dev })).code).not.toBe(0);
    expect((await getDeployment(t.db, holder, run.id)).failureReason).toBe(`Wipe the disks: disk sdz not found (looked for ${dev}/sdz)`);
  });
});

describe("the deploy agent with a block map", () => {
  const MiB = 1024 * 1024;
  /** 24 MiB + 3000 bytes, data in three islands (one in the first MiB), zeros elsewhere. */
  function sparseImage(): Buffer {
    const b = Buffer.alloc(24 * MiB + 3000);
    randomBytes(600 * 1024).copy(b, 0);
    randomBytes(2 * MiB).copy(b, 8 * MiB);
    randomBytes(MiB + 5).copy(b, 20 * MiB);
    return b;
  }
  const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

  /** A ready image of `logical` (compressed as `format`) with the block map verification would record. */
  async function mappedImage(logical: Buffer, format: "raw" | "zstd") {
    const img = await seedReadyImage(t.db, { ownerUserId: holder.user!.id, bytes: format === "zstd" ? zstdCompressSync(logical) : logical, format });
    const blockMap = await scanBlockMap(async function* () { yield logical; }, { imageSha256: img.sha256 });
    await updateImageVersionFrom(t.db, { imageId: img.image.id, version: img.version, from: "ready" }, { blockMap });
    return { ...img, blockMap };
  }

  it.each(["raw", "zstd"] as const)("zeroes the disk, writes only the mapped ranges of a sparse %s image, and the disk equals the image", async (format) => {
    const logical = sparseImage();
    const img = await mappedImage(logical, format);
    expect(img.blockMap.ranges.map((r) => [r.start, r.length])).toEqual([[0, MiB], [8 * MiB, 2 * MiB], [20 * MiB, MiB + 4096]]);
    const { run, machine, dev, mac } = await bootedRun({ action: "deploy_image", imageId: img.image.id, disk: "vda" });
    const disk = path.join(dev, "vda");
    // What was there before: 0xaa everywhere, which must read zero where the image has none.
    await fs.writeFile(disk, Buffer.alloc(26 * MiB, 0xaa));
    const result = await runAgent({ mac, token: machine.token!, dev });
    expect(result, result.stderr).toMatchObject({ code: 0 });
    const after = await fs.readFile(disk);
    expect(after.length).toBe(26 * MiB);
    expect(sha(after.subarray(0, logical.length))).toBe(sha(logical));
    expect(after.subarray(logical.length).equals(Buffer.alloc(after.length - logical.length))).toBe(true);
    // Only the mapped ranges were written: the rest of the file is holes (allocated ≈ mapped).
    expect((await fs.stat(disk)).blocks * 512).toBeLessThan(img.blockMap.mappedBytes + MiB);
    const view = await getDeployment(t.db, holder, run.id);
    expect(view.state).toBe("done");
    expect(view.progress).toMatchObject({ bytesWritten: logical.length, totalBytes: logical.length });
    expect(view.logs.map((l) => l.line)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^zeroed ${dev}/vda without writing it \\(fallocate --punch-hole, \\d+ s\\); writing only the ${img.blockMap.mappedBytes} mapped bytes of the ${logical.length}-byte image$`)),
        `wrote the ${img.blockMap.mappedBytes} mapped bytes of the ${logical.length}-byte image to ${dev}/vda (the rest reads zero), its first MiB last; sha256 of the delivered image and of the mapped bytes match`,
      ]),
    );
  });

  it("catches a corrupted range: the checksum fails the run and the disk keeps no partition table", async () => {
    const logical = sparseImage();
    const img = await mappedImage(logical, "raw");
    const stored = getImageStorage().localBlobPath((await getImageVersionRow(t.db, { imageId: img.image.id, version: img.version }))!.storageKey!)!;
    const fh = await fs.open(stored, "r+");
    await fh.write(Buffer.from([logical[9 * MiB + 77]! ^ 0xff]), 0, 1, 9 * MiB + 77);
    await fh.close();
    const { run, machine, dev, mac } = await bootedRun({ action: "deploy_image", imageId: img.image.id, disk: "vda" });
    const disk = path.join(dev, "vda");
    await fs.writeFile(disk, Buffer.alloc(26 * MiB, 0xaa));
    expect((await runAgent({ mac, token: machine.token!, dev })).code).not.toBe(0);
    expect((await getDeployment(t.db, holder, run.id)).failureReason).toMatch(new RegExp(`^Verify the written image: checksum mismatch: expected ${img.sha256}, got [0-9a-f]{64} — .* the disk was left without a partition table, so it does not boot$`));
    const after = await fs.readFile(disk);
    expect(after.subarray(0, MiB).equals(Buffer.alloc(MiB))).toBe(true);
  });

  it("fails the run when the map does not fit the bytes (a range in the wrong place), though the image's checksum matches", async () => {
    const logical = sparseImage();
    const img = await mappedImage(logical, "zstd");
    const wrong = structuredClone(img.blockMap);
    wrong.ranges[1]!.start += 4096;
    await updateImageVersionFrom(t.db, { imageId: img.image.id, version: img.version, from: "ready" }, { blockMap: wrong });
    const { run, machine, dev, mac } = await bootedRun({ action: "deploy_image", imageId: img.image.id, disk: "vda" });
    const disk = path.join(dev, "vda");
    await fs.writeFile(disk, "");
    expect((await runAgent({ mac, token: machine.token!, dev })).code).not.toBe(0);
    expect((await getDeployment(t.db, holder, run.id)).failureReason).toBe(
      `Verify the written image: the mapped ranges written do not match the image's block map: sha256 expected ${img.blockMap.mappedSha256}, got ${sha(Buffer.concat(wrong.ranges.map((r) => logical.subarray(r.start, r.start + r.length))))} — the disk was left without a partition table, so it does not boot`,
    );
    expect((await fs.readFile(disk)).subarray(0, MiB).equals(Buffer.alloc(MiB))).toBe(true);
  });

  it("writes every byte when the disk cannot be zeroed without writing (fallocate fails)", async () => {
    const logical = sparseImage();
    const img = await mappedImage(logical, "zstd");
    const { run, machine, dev, mac } = await bootedRun({ action: "deploy_image", imageId: img.image.id, disk: "vda" });
    const disk = path.join(dev, "vda");
    await fs.writeFile(disk, Buffer.alloc(26 * MiB, 0xaa));
    const bin = path.join(dev, "bin");
    await fs.mkdir(bin);
    await fs.writeFile(path.join(bin, "fallocate"), "#!/bin/sh\necho 'fallocate: fallocate failed: Operation not supported' >&2\nexit 1\n", { mode: 0o755 });
    const result = await runAgent({ mac, token: machine.token!, dev, path: `${bin}:${getProcessEnv().PATH}` });
    expect(result, result.stderr).toMatchObject({ code: 0 });
    const after = await fs.readFile(disk);
    expect(sha(after.subarray(0, logical.length))).toBe(sha(logical));
    const view = await getDeployment(t.db, holder, run.id);
    expect(view.state).toBe("done");
    expect(view.logs.map((l) => l.line)).toEqual(expect.arrayContaining([`${dev}/vda cannot be zeroed without writing every byte (fallocate: fallocate failed: Operation not supported): writing the whole image`]));
  });
});
