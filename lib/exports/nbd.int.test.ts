// qemu-nbd exports against the real qemu-img / qemu-nbd / qemu-io (qemu-utils). No database, no VM.
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat, truncate, writeFile, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import net from "node:net";
import { createOverlay, flattenOverlay, newExportName, NbdExportSupervisor, pickFreePort, probeNbdExport, startNbdExport } from "./nbd";

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "kiln-nbd-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function nbdRead(address: string, offset: number, length: number): Promise<string> {
  const { stdout } = await run("qemu-io", ["-r", "-f", "raw", `nbd://${address}`, "-c", `read -v ${offset} ${length}`]);
  return stdout;
}

describe("NBD exports of qcow2 overlays", () => {
  it("creates a 10 GiB overlay in well under a second and serves the base's bytes with writes kept in the overlay", async () => {
    const big = path.join(dir, "big.raw");
    await writeFile(big, Buffer.alloc(1 << 20, 0x5a));
    await truncate(big, 10 * 1024 ** 3);
    const t0 = performance.now();
    await createOverlay({ base: big, baseFormat: "raw", overlay: path.join(dir, "big.qcow2") });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect((await stat(path.join(dir, "big.qcow2"))).size).toBeLessThan(1 << 20);
    await expect(createOverlay({ base: big, baseFormat: "raw", overlay: path.join(dir, "big.qcow2") })).rejects.toThrow(/already exists/);

    const base = path.join(dir, "base.raw");
    await writeFile(base, Buffer.alloc(4 << 20, 0x5a));
    const overlay = path.join(dir, "a.qcow2");
    await createOverlay({ base, baseFormat: "raw", overlay });

    const name = newExportName();
    const exp = await startNbdExport({ file: overlay, format: "qcow2", bindAddress: "127.0.0.1", exportName: name });
    try {
      expect(await nbdRead(exp.address, 0, 16)).toContain("5a 5a 5a 5a");
      await run("qemu-io", ["-f", "raw", `nbd://${exp.address}`, "-c", "write -P 0xab 4096 4096"]);
      expect(await nbdRead(exp.address, 4096, 16)).toContain("ab ab ab ab");
      // The base is never written.
      const head = await readFile(base).then((b) => b.subarray(4096, 4100));
      expect([...head]).toEqual([0x5a, 0x5a, 0x5a, 0x5a]);
      // A client naming another export is refused in the handshake.
      expect(await probeNbdExport("127.0.0.1", exp.port, name)).toBe("ok");
      expect(await probeNbdExport("127.0.0.1", exp.port, newExportName())).toBe("unknown");
      await expect(run("qemu-io", ["-r", "-f", "raw", `nbd://127.0.0.1:${exp.port}/${newExportName()}`, "-c", "read 0 512"])).rejects.toThrow();
    } finally {
      await exp.stop();
    }

    // Flattening: the written 4 KiB differ from the base, nothing else.
    const out = path.join(dir, "flat.raw");
    await flattenOverlay({ overlay, output: out });
    const { stdout } = await run("cmp", ["-l", base, out]).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
    const offsets = stdout.trim().split("\n").map((l) => Number(l.trim().split(/\s+/)[0]) - 1);
    expect(offsets.length).toBe(4096);
    expect(Math.min(...offsets)).toBe(4096);
    expect(Math.max(...offsets)).toBe(8191);
  }, 60_000);

  it("the supervisor restarts a killed qemu-nbd on the same port, and the written data is still there", async () => {
    const base = path.join(dir, "base2.raw");
    await writeFile(base, Buffer.alloc(1 << 20, 0x11));
    const overlay = path.join(dir, "b.qcow2");
    await createOverlay({ base, baseFormat: "raw", overlay });
    const sup = new NbdExportSupervisor({ restartDelayMs: 50 });
    const name = newExportName();
    try {
      const first = await sup.ensure("d1", { file: overlay, format: "qcow2", bindAddress: "127.0.0.1", exportName: name });
      expect(await sup.ensure("d1", { file: overlay, format: "qcow2", bindAddress: "127.0.0.1", exportName: name })).toBe(first);
      await run("qemu-io", ["-f", "raw", `nbd://${first.address}`, "-c", "write -P 0xcd 0 512"]);
      process.kill(first.pid, "SIGKILL");
      await first.exited;
      let next = sup.get("d1");
      for (let i = 0; i < 100 && (!next || next.pid === first.pid); i++) {
        await new Promise((r) => setTimeout(r, 50));
        next = sup.get("d1");
      }
      expect(next).not.toBeNull();
      expect(next!.pid).not.toBe(first.pid);
      expect(next!.port).toBe(first.port);
      expect(await nbdRead(next!.address, 0, 16)).toContain("cd cd cd cd");
      await sup.stop("d1");
      expect(sup.get("d1")).toBeNull();
      await expect(probeNbdExport("127.0.0.1", first.port, name, 1000)).rejects.toThrow();
    } finally {
      await sup.stopAll();
    }
  }, 60_000);

  it("picks ports from KILN_NBD_PORTS only, skips a taken one, and says so when the range is full", async () => {
    // Two neighbouring free ports: one held by someone else, so the export must take the other.
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const busy = (taken.address() as net.AddressInfo).port;
    const range = { first: busy, last: busy + 1 };
    try {
      for (let i = 0; i < 5; i++) expect(await pickFreePort("127.0.0.1", range)).toBe(busy + 1);
      const disk = path.join(dir, "ranged.raw");
      await writeFile(disk, Buffer.alloc(1 << 20, 0x33));
      const exp = await startNbdExport({ file: disk, format: "raw", bindAddress: "127.0.0.1", portRange: range, exportName: newExportName() });
      try {
        expect(exp.port).toBe(busy + 1);
        await expect(pickFreePort("127.0.0.1", range)).rejects.toThrow(`no free port for an NBD export in KILN_NBD_PORTS ${busy}-${busy + 1}: every one is in use (widen the range)`);
      } finally {
        await exp.stop();
      }
    } finally {
      taken.close();
    }
  });
});
