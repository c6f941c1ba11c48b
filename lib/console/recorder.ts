// Each run keeps its machine's last console lines (deployment_consoles), so a failed install
// shows why with nobody attached. It runs in the boot server, not the worker: the boot server
// holds the one attachment per machine (./hub.ts), and a QEMU serial socket or a BMC's SOL
// takes one client, so the recorder has to share it with the people watching rather than open
// a second. It looks for runs every few seconds (pending or running, on a host of this
// server's site whose driver offers a console), so a restart simply picks them up again: the
// stored text is loaded and appended to. Text is written every few seconds while it changes,
// and once more when the run ends.
import { getHostRow } from "@/db/queries/hosts";
import { getDeploymentConsole, listActiveConsoleDeployments, upsertDeploymentConsole } from "@/db/queries/consoles";
import type { Db } from "../db";
import { getLogger } from "../log";
import type { ConsoleHandle, ConsoleHub } from "./hub";
import { consoleSpecOf } from "./sources";
import { ConsoleTail } from "./tail";

type Recording = { deploymentId: string; hostId: string; tail: ConsoleTail; handle: ConsoleHandle };

export const RECORD_INTERVAL_MS = 3_000;

/** The hub's host lookup for a process with a database: the host's console as stored now. */
export function resolveFromDb(db: Db) {
  return async (hostId: string) => {
    const host = await getHostRow(db, hostId);
    return host ? consoleSpecOf(host) : { none: "That host no longer exists." };
  };
}

export class ConsoleRecorder {
  private recordings = new Map<string, Recording>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly log = getLogger("console");

  constructor(private readonly o: { db: Db; hub: ConsoleHub; siteId?: () => string | null; now?: () => Date }) {}

  /** Run ids being recorded (tests). */
  recording(): string[] {
    return [...this.recordings.keys()];
  }

  start(intervalMs = RECORD_INTERVAL_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
    void this.tick();
  }

  /** Writes what is owed and lets go of every attachment (process stopping). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    for (const r of [...this.recordings.values()]) await this.finish(r);
  }

  /** One pass: start recording new runs, write changed tails, finish ended runs. Never throws (database away: next pass). */
  tick(): Promise<void> {
    // One pass at a time: a slow database must not start a second attachment for the same run.
    this.running ??= this.pass()
      .catch((e) => this.log.debug({ err: (e as Error).message }, "console recorder pass failed"))
      .finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<void> {
    const active = await listActiveConsoleDeployments(this.o.db, { siteId: this.o.siteId?.() ?? null });
    const activeIds = new Set(active.map((r) => r.deploymentId));
    for (const r of [...this.recordings.values()]) if (!activeIds.has(r.deploymentId)) await this.finish(r);
    for (const run of active) {
      if (this.recordings.has(run.deploymentId)) continue;
      const stored = await getDeploymentConsole(this.o.db, run.deploymentId);
      const tail = new ConsoleTail(stored?.text ?? "");
      // No replay: what the hub kept from before this run belongs to the machine's past.
      const handle = this.o.hub.subscribe(run.hostId, { data: (chunk) => tail.push(chunk) }, { replay: false });
      this.recordings.set(run.deploymentId, { ...run, tail, handle });
    }
    for (const r of this.recordings.values()) await this.flush(r);
  }

  private async flush(r: Recording): Promise<void> {
    if (!r.tail.dirty) return;
    r.tail.dirty = false;
    try {
      await upsertDeploymentConsole(this.o.db, { deploymentId: r.deploymentId, text: r.tail.text(), at: this.o.now?.() ?? new Date() });
    } catch (e) {
      r.tail.dirty = true;
      throw e;
    }
  }

  private async finish(r: Recording): Promise<void> {
    this.recordings.delete(r.deploymentId);
    r.handle.leave();
    await this.flush(r).catch((e) => this.log.warn({ err: (e as Error).message, deploymentId: r.deploymentId }, "last console lines of a run not written"));
  }
}
