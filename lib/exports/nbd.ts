// One file: one small API (below) over one external program, qemu-nbd: overlays, ports, exports and
// the supervisor that keeps them running.
// Network block exports (docs/diskless.md): a copy-on-write qcow2 overlay per deployment, served by
// qemu-nbd (qemu-utils; userspace, no kernel module on the Kiln host). Used by diskless boot and by
// extra disks (lib/extra-disks): anything that must hand one machine one block device over the
// network.
//
// API (small on purpose):
//   createOverlay({ base, baseFormat, overlay })        qcow2 overlay on a read-only base; instant
//   createSparseDisk({ file, bytes, format })            an empty disk (raw sparse or qcow2)
//   newExportName()                                      a per-export secret (the only access check)
//   startNbdExport(spec) → NbdExport                     one qemu-nbd process, resolved when serving
//   new NbdExportSupervisor() .ensure(key, spec) .stop(key) .stopAll() .get(key) .list()
//                                                        keeps one process per live export, restarts it
//   probeNbdExport(host, port, name) → "ok"|"unknown"    an NBD handshake: does the server accept the name?
//
// Isolation: qemu-nbd has no per-client address filter, so the export name is a per-export secret
// (lib/crypto-strength random, served only in the owning machine's boot answer); a client naming
// anything else is refused during the handshake (NBD_REP_ERR_UNKNOWN) before it sees a byte.
// Exports bind to one address (the boot network's), never 0.0.0.0 unless the caller says so.
//
// State: the overlay file is the state, never the process. A crashed qemu-nbd (or Kiln) loses
// nothing: the supervisor restarts it on the same port, and at start Kiln calls ensure() for every
// live export it has in the database.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, stat } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export type DiskFormat = "raw" | "qcow2";

export type NbdExportSpec = {
  /** The file served (an overlay, or a raw/qcow2 disk). */
  file: string;
  format: DiskFormat;
  /** Address the server listens on (the boot network's address; 127.0.0.1 in tests). */
  bindAddress: string;
  /** 0 or absent: a free port is picked (and kept across restarts by the supervisor). */
  port?: number;
  /** Where a picked port comes from (KILN_NBD_PORTS); absent: any free port. */
  portRange?: PortRange | null;
  /** The secret the client must name. */
  exportName: string;
  readOnly?: boolean;
};

export type PortRange = { first: number; last: number };

export type NbdExport = {
  pid: number;
  host: string;
  port: number;
  exportName: string;
  file: string;
  /** What a client passes (nbd-client HOST PORT -N NAME), as one string: host:port/name. */
  address: string;
  /** Resolves with the exit code when the process ends (for any reason). */
  exited: Promise<number | null>;
  stop(): Promise<void>;
};

/** A random export name: 24 bytes, base64url (32 characters) — unguessable, safe on a kernel command line. */
export function newExportName(): string {
  return randomBytes(24).toString("base64url");
}

/**
 * A qcow2 overlay whose backing file is `base` (kept by absolute path, read-only to the overlay).
 * Metadata only: the same time for 1 GiB or 1 TiB. Refuses to overwrite an existing overlay.
 */
export async function createOverlay(params: { base: string; baseFormat: DiskFormat; overlay: string }): Promise<void> {
  const base = path.resolve(params.base);
  await stat(base); // a clear ENOENT naming the base rather than qemu-img's message
  await mkdir(path.dirname(params.overlay), { recursive: true });
  if (await exists(params.overlay)) throw new Error(`overlay ${params.overlay} already exists`);
  await run("qemu-img", ["create", "-q", "-f", "qcow2", "-b", base, "-F", params.baseFormat, params.overlay]);
}

/** An empty disk of `bytes`: a sparse raw file or an empty qcow2 (no bytes until written). */
export async function createSparseDisk(params: { file: string; bytes: number; format?: DiskFormat }): Promise<void> {
  await mkdir(path.dirname(params.file), { recursive: true });
  if (await exists(params.file)) throw new Error(`disk ${params.file} already exists`);
  await run("qemu-img", ["create", "-q", "-f", params.format ?? "raw", params.file, String(params.bytes)]);
}

/**
 * Copies an overlay together with its backing chain into one standalone file (what capture
 * stores as a new image version). raw: the full disk; qcow2: only allocated clusters.
 */
export async function flattenOverlay(params: { overlay: string; output: string; outputFormat?: DiskFormat; whileExported?: boolean }): Promise<void> {
  await mkdir(path.dirname(params.output), { recursive: true });
  // -S 4k keeps zero runs sparse in a raw output. whileExported: a running qemu-nbd holds the
  // overlay's write lock; -U reads it anyway (consistent when the machine is off or idle — what
  // it has not flushed yet is not in the file).
  await run("qemu-img", ["convert", "-q", ...(params.whileExported ? ["-U"] : []), "-f", "qcow2", "-O", params.outputFormat ?? "raw", "-S", "4k", params.overlay, params.output]);
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * A free TCP port on `host` (closed again: qemu-nbd binds it next; a lost race shows as a failed
 * start, retried): any port, or one of `range`, tried from a random place in it so two exports
 * started at once rarely race for the same one.
 */
export async function pickFreePort(host: string, range?: PortRange | null): Promise<number> {
  if (!range) return listenOnce(host, 0);
  const size = range.last - range.first + 1;
  const start = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = range.first + ((start + i) % size);
    try {
      return await listenOnce(host, port);
    } catch {
      // Taken: the next one.
    }
  }
  throw new Error(`no free port for an NBD export in KILN_NBD_PORTS ${range.first}-${range.last}: every one is in use (widen the range)`);
}

function listenOnce(host: string, wanted: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(wanted, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts one qemu-nbd for `spec`; resolves once it accepts the export name, rejects with its stderr otherwise. */
export async function startNbdExport(spec: NbdExportSpec, opts: { readyTimeoutMs?: number } = {}): Promise<NbdExport> {
  const wanted = spec.port ?? 0;
  for (let attempt = 1; ; attempt++) {
    const port = wanted || (await pickFreePort(spec.bindAddress, spec.portRange));
    try {
      return await startOnce({ ...spec, port }, opts.readyTimeoutMs ?? 10_000);
    } catch (e) {
      // A picked port taken in between: pick again. A fixed port: the caller decides.
      if (wanted || attempt >= 3) throw e;
    }
  }
}

async function startOnce(spec: NbdExportSpec & { port: number }, readyTimeoutMs: number): Promise<NbdExport> {
  const args = [
    "--persistent",
    "--shared=1",
    "--bind",
    spec.bindAddress,
    "--port",
    String(spec.port),
    "--export-name",
    spec.exportName,
    "-f",
    spec.format,
    // writeback: writes land in the host's page cache (a crash of qemu-nbd or of Kiln loses
    // nothing); the client's flush (sync, unmount) is an fsync of the overlay.
    "--cache=writeback",
    "--discard=unmap",
    ...(spec.readOnly ? ["--read-only"] : []),
    path.resolve(spec.file),
  ];
  const child: ChildProcess = spawn("qemu-nbd", args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.once("error", () => resolve(null));
  });
  let gone = false;
  void exited.then(() => (gone = true));

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (gone) throw new Error(`qemu-nbd exited before serving ${spec.file}: ${stderr.trim() || "no message"}`);
    const answer = await probeNbdExport(spec.bindAddress, spec.port, spec.exportName, 1000).catch(() => null);
    if (answer === "ok") break;
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error(`qemu-nbd did not serve ${spec.file} on ${spec.bindAddress}:${spec.port} within ${readyTimeoutMs} ms: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid!,
    host: spec.bindAddress,
    port: spec.port,
    exportName: spec.exportName,
    file: spec.file,
    address: `${spec.bindAddress}:${spec.port}/${spec.exportName}`,
    exited,
    async stop() {
      if (gone) return;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

type Supervised = { spec: NbdExportSpec & { port: number }; current: NbdExport | null; stopped: boolean; restarts: number };

/**
 * One qemu-nbd per live export, restarted when it dies (on the same port and name, so a machine's
 * nbd-client reconnecting finds it again). ensure() is idempotent: Kiln calls it at start for
 * every live export in the database and whenever one is created.
 */
export class NbdExportSupervisor {
  private readonly exports = new Map<string, Supervised>();
  constructor(private readonly opts: { restartDelayMs?: number; log?: (line: string) => void } = {}) {}

  async ensure(key: string, spec: NbdExportSpec): Promise<NbdExport> {
    const have = this.exports.get(key);
    if (have?.current && have.spec.file === path.resolve(spec.file) && have.spec.exportName === spec.exportName) return have.current;
    if (have) await this.stop(key);
    const started = await startNbdExport(spec);
    const entry: Supervised = {
      spec: { ...spec, file: path.resolve(spec.file), port: started.port },
      current: started,
      stopped: false,
      restarts: 0,
    };
    this.exports.set(key, entry);
    this.watch(key, entry, started);
    return started;
  }

  private watch(key: string, entry: Supervised, exp: NbdExport): void {
    void exp.exited.then(async (code) => {
      if (entry.stopped || this.exports.get(key) !== entry) return;
      entry.current = null;
      this.opts.log?.(`qemu-nbd for ${key} exited (${code}); restarting on port ${entry.spec.port}`);
      for (;;) {
        await new Promise((r) => setTimeout(r, Math.min(5000, (this.opts.restartDelayMs ?? 200) * 2 ** Math.min(entry.restarts, 5))));
        if (entry.stopped || this.exports.get(key) !== entry) return;
        entry.restarts++;
        try {
          const next = await startNbdExport(entry.spec);
          if (entry.stopped) {
            await next.stop();
            return;
          }
          entry.current = next;
          this.watch(key, entry, next);
          return;
        } catch (e) {
          this.opts.log?.(`restarting qemu-nbd for ${key} failed: ${(e as Error).message}`);
        }
      }
    });
  }

  get(key: string): NbdExport | null {
    return this.exports.get(key)?.current ?? null;
  }

  list(): { key: string; export: NbdExport | null; restarts: number }[] {
    return [...this.exports].map(([key, e]) => ({ key, export: e.current, restarts: e.restarts }));
  }

  async stop(key: string): Promise<void> {
    const e = this.exports.get(key);
    if (!e) return;
    e.stopped = true;
    this.exports.delete(key);
    await e.current?.stop();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.exports.keys()].map((k) => this.stop(k)));
  }
}

const NBD_MAGIC = Buffer.from("NBDMAGIC");
const IHAVEOPT = Buffer.from("IHAVEOPT");
const NBD_OPT_ABORT = 2;
const NBD_OPT_INFO = 6;
const NBD_REP_ACK = 1;
const NBD_REP_INFO = 3;
const NBD_REP_ERR_UNKNOWN = 0x80000006;

/**
 * The NBD fixed-newstyle handshake with NBD_OPT_INFO for `name`: "ok" when the server would serve
 * it, "unknown" when it refuses the name, "refused" for any other error reply. Rejects on a network
 * error or timeout. Opens no export (no block is read).
 */
export function probeNbdExport(host: string, port: number, name: string, timeoutMs = 5000): Promise<"ok" | "unknown" | "refused"> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ host, port });
    let buf = Buffer.alloc(0);
    let stage: "greeting" | "replies" = "greeting";
    const done = (err: Error | null, v?: "ok" | "unknown" | "refused") => {
      clearTimeout(timer);
      sock.removeAllListeners("data");
      if (v) {
        const abort = Buffer.alloc(16);
        IHAVEOPT.copy(abort, 0);
        abort.writeUInt32BE(NBD_OPT_ABORT, 8);
        abort.writeUInt32BE(0, 12);
        sock.end(abort);
      } else sock.destroy();
      if (err) reject(err);
      else resolve(v!);
    };
    const timer = setTimeout(() => done(new Error(`NBD handshake with ${host}:${port} timed out`)), timeoutMs);
    sock.on("error", (e) => done(e));
    sock.on("close", () => done(new Error(`NBD server ${host}:${port} closed the connection`)));
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (stage === "greeting") {
        if (buf.length < 18) return;
        if (!buf.subarray(0, 8).equals(NBD_MAGIC) || !buf.subarray(8, 16).equals(IHAVEOPT)) {
          done(new Error(`${host}:${port} is not a newstyle NBD server`));
          return;
        }
        buf = buf.subarray(18);
        stage = "replies";
        const nameBytes = Buffer.from(name);
        const opt = Buffer.alloc(4 + 16 + 4 + nameBytes.length + 2);
        opt.writeUInt32BE(3, 0); // client flags: FIXED_NEWSTYLE | NO_ZEROES
        IHAVEOPT.copy(opt, 4);
        opt.writeUInt32BE(NBD_OPT_INFO, 12);
        opt.writeUInt32BE(4 + nameBytes.length + 2, 16);
        opt.writeUInt32BE(nameBytes.length, 20);
        nameBytes.copy(opt, 24);
        opt.writeUInt16BE(0, 24 + nameBytes.length);
        sock.write(opt);
      }
      while (stage === "replies" && buf.length >= 20) {
        const len = buf.readUInt32BE(16);
        if (buf.length < 20 + len) return;
        const type = buf.readUInt32BE(12);
        buf = buf.subarray(20 + len);
        if (type === NBD_REP_INFO) continue;
        if (type === NBD_REP_ACK) return done(null, "ok");
        return done(null, type === NBD_REP_ERR_UNKNOWN ? "unknown" : "refused");
      }
    });
  });
}
