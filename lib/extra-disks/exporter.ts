// Extra disks over NBD, through lib/exports (one qemu-nbd per disk, its secret name the only
// access check, bound to KILN_NBD_BIND_ADDRESS). The process that runs the reconciler (the
// worker) holds the exports; the disk file is the state, never the process.
import { readdir, readFile } from "node:fs/promises";
import { NbdExportSupervisor, type PortRange } from "../exports/nbd";
import { getEnv } from "../env";
import { getLogger } from "../log";

export type DiskExporter = {
  /** Serves `file` under `name` (idempotent); `port`: the one it had before, kept when free so rendered templates stay right. */
  ensure(p: { name: string; file: string; sizeBytes: number; port?: number | null }): Promise<{ address: string; port: number }>;
  /** Stops serving `name`, including a qemu-nbd a previous worker left running; nothing running is fine. */
  stop(name: string): Promise<void>;
  /** Names of the disk exports this process serves. */
  list(): Promise<string[]>;
};

/**
 * qemu-nbd processes serving `name` that are not `keep` (a worker killed with SIGKILL leaves its
 * children running: they would go on serving a disk whose file is being deleted, or hold its port).
 */
async function killOtherServers(name: string, keep: number | null): Promise<number> {
  let killed = 0;
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry) || Number(entry) === keep || Number(entry) === process.pid) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`, "utf8").then((s) => s.split("\0"), () => null);
    if (!argv || !argv[0]?.endsWith("qemu-nbd")) continue;
    const i = argv.indexOf("--export-name");
    if (i < 0 || argv[i + 1] !== name) continue;
    try {
      process.kill(Number(entry), "SIGTERM");
      killed++;
    } catch {
      // Gone already.
    }
  }
  if (killed) await new Promise((r) => setTimeout(r, 300));
  return killed;
}

export function createNbdDiskExporter(opts: { bindAddress: string; address: string; portRange?: PortRange | null }): DiskExporter & { stopAll(): Promise<void>; pids(): number[] } {
  const log = getLogger("extra-disks");
  const supervisor = new NbdExportSupervisor({ log: (line) => log.warn(line) });
  const key = (name: string) => `disk:${name}`;
  return {
    async ensure(p) {
      const running = supervisor.get(key(p.name));
      if (running) return { address: opts.address, port: running.port };
      await killOtherServers(p.name, null);
      const spec = { file: p.file, format: "raw" as const, bindAddress: opts.bindAddress, portRange: opts.portRange, exportName: p.name };
      let started;
      try {
        started = await supervisor.ensure(key(p.name), { ...spec, port: p.port ?? undefined });
      } catch (e) {
        if (!p.port) throw e;
        // Its old port is taken by something else: a new one (the row is updated, new renders use it).
        log.warn({ err: e instanceof Error ? e.message : e, port: p.port }, "extra disk: its former port is not free; exporting on another");
        started = await supervisor.ensure(key(p.name), spec);
      }
      return { address: opts.address, port: started.port };
    },
    async stop(name) {
      const running = supervisor.get(key(name));
      await supervisor.stop(key(name));
      await killOtherServers(name, running?.pid ?? null);
    },
    async list() {
      return supervisor
        .list()
        .filter((e) => e.key.startsWith("disk:"))
        .map((e) => e.key.slice("disk:".length));
    },
    stopAll: () => supervisor.stopAll(),
    pids: () => supervisor.list().flatMap((e) => (e.export ? [e.export.pid] : [])),
  };
}

let shared: ReturnType<typeof createNbdDiskExporter> | undefined;

/** The worker's exporter, from the settings; its qemu-nbd processes end with the process. */
export function getDiskExporter(): DiskExporter {
  if (!shared) {
    const env = getEnv();
    const exporter = createNbdDiskExporter({ bindAddress: env.KILN_NBD_BIND_ADDRESS, address: env.nbdAddress, portRange: env.nbdPortRange });
    shared = exporter;
    // A clean exit of the worker takes its exports along (a SIGKILLed one's are found and
    // replaced by the next worker's reconciler: killOtherServers).
    process.once("exit", () => {
      for (const pid of exporter.pids()) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          // Gone already.
        }
      }
    });
  }
  return shared;
}

/** For the worker's shutdown and tests. */
export async function stopDiskExports(): Promise<void> {
  const s = shared;
  shared = undefined;
  await s?.stopAll();
}
