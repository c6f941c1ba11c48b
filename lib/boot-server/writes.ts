// The boot server's writes, kept off the answer's path: a request only records what is due in
// memory, and a flush (every second, or sooner when 500 are waiting) writes them in batches —
// last seen of many hosts in one statement, discoveries one new MAC at a time (never one per
// request), and the boots of a run coalesced into one count and one note. While PostgreSQL is
// away they wait, bounded, and go out when it returns; a run's boots are never dropped (they
// move it pending → running and are what its holder watches).
import { recordDeploymentBoot } from "@/db/queries/boot";
import type { Db } from "../db";
import { DISCOVERY_LIMIT_PER_IP, DISCOVERY_WINDOW_SECONDS, discoverHost } from "../boot/boot-service";
import { noteBootRequest } from "../deployments/agent";
import { bootSightings } from "../hosts/addresses";
import { recordBootSightings } from "@/db/queries/addresses";
import { getLogger } from "../log";
import type { HostArchName } from "../validation/inventory";

export const FLUSH_INTERVAL_MS = 1_000;
export const FLUSH_AT_ITEMS = 500;
/** Touches kept while the database is away; the oldest go first (a later touch of the same host replaces its own). */
const MAX_TOUCHES = 20_000;
const MAX_DISCOVERIES = 5_000;
/** Sources tracked by the in-memory flood limit; beyond that, the oldest windows are forgotten. */
const MAX_SOURCES = 10_000;

type Touch = { hostId: string; at: Date; sourceIp: string | null; mac?: string | null };
type Discovery = { mac: string; hint: string | null; sourceIp: string | null; at: Date; arch?: HostArchName | null };
/** Boots of one run not yet counted; `notePending`: counted, but its note (boot step, live log) not yet written. */
type RunBoots = { count: number; at: Date; notePending: boolean };

export type WritesResult = { ok: boolean };

export class BootWrites {
  // Map order is insertion order: a host's touch is deleted and re-set, so the first key is the oldest.
  private touches = new Map<string, Touch>();
  private discoveries = new Map<string, Discovery>();
  private runs = new Map<string, RunBoots>();
  /** Per source address: the MACs queued for discovery in the current window (the per-boot-server flood limit). */
  private sources = new Map<string, { startMs: number; macs: Set<string> }>();
  private flushing: Promise<WritesResult> | null = null;
  private queued: Promise<WritesResult> | null = null;
  private timer: NodeJS.Timeout | null = null;
  droppedTouches = 0;

  constructor(
    private readonly p: { db: Db; siteId: string | null; onFlushed: (r: { ok: boolean; error?: unknown }) => void },
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops the timer and writes what is waiting (once; the caller decides what a failure means). */
  async stop(): Promise<WritesResult> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.flush();
  }

  get pending(): number {
    let n = this.touches.size + this.discoveries.size;
    for (const r of this.runs.values()) if (r.count > 0 || r.notePending) n++;
    return n;
  }

  touch(hostId: string, at: Date, sourceIp: string | null, mac: string | null = null): void {
    this.touches.delete(hostId);
    this.touches.set(hostId, { hostId, at, sourceIp, mac });
    if (this.touches.size > MAX_TOUCHES) {
      this.touches.delete(this.touches.keys().next().value!);
      this.droppedTouches++;
    }
    this.kickIfFull();
  }

  /** Queues an unknown MAC for discovery unless its source already sent its share this window; true when queued (now or before). */
  discover(d: Discovery): boolean {
    if (this.discoveries.has(d.mac)) return true;
    const key = d.sourceIp ?? "unknown";
    const nowMs = d.at.getTime();
    let src = this.sources.get(key);
    if (!src || nowMs - src.startMs > DISCOVERY_WINDOW_SECONDS * 1000) {
      this.sources.delete(key);
      src = { startMs: nowMs, macs: new Set() };
      this.sources.set(key, src);
      if (this.sources.size > MAX_SOURCES) this.sources.delete(this.sources.keys().next().value!);
    }
    // Asked again in this window: queued (and perhaps refused by the database's limit) already.
    if (src.macs.has(d.mac) || src.macs.size >= DISCOVERY_LIMIT_PER_IP) return false;
    if (this.discoveries.size >= MAX_DISCOVERIES) return false;
    src.macs.add(d.mac);
    this.discoveries.set(d.mac, d);
    this.kickIfFull();
    return true;
  }

  runBooted(deploymentId: string, at: Date): void {
    const r = this.runs.get(deploymentId);
    if (r) {
      r.count++;
      r.at = at;
    } else this.runs.set(deploymentId, { count: 1, at, notePending: false });
    this.kickIfFull();
  }

  private kickIfFull(): void {
    if (this.touches.size + this.discoveries.size >= FLUSH_AT_ITEMS && !this.flushing) void this.flush();
  }

  /** One flush at a time; a call during a flush gets one more, run right after it (so what it queued is in). */
  flush(): Promise<WritesResult> {
    if (this.flushing) {
      this.queued ??= this.flushing.then(() => {
        this.queued = null;
        return this.flush();
      });
      return this.queued;
    }
    this.flushing = this.flushOnce().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async flushOnce(): Promise<WritesResult> {
    if (this.pending === 0) return { ok: true };
    const { db } = this.p;
    try {
      // Boots first: they are what a person watches, and they are never dropped. Boots taken
      // during the await stay counted for the next flush; a count written whose note failed
      // re-tries only the note.
      for (const [id, r] of [...this.runs]) {
        try {
          if (r.count > 0) {
            const { count, at } = r;
            await recordDeploymentBoot(db, id, at, count);
            r.count -= count;
            r.notePending = true;
          }
          if (r.notePending) {
            await noteBootRequest(db, id, r.at);
            r.notePending = false;
          }
        } catch (e) {
          if (isConnectionError(e)) throw e;
          // The database refused this one write (not an outage): kept, it would block every flush after it.
          dropped("a run's boots", { deploymentId: id, count: r.count }, e);
          r.count = 0;
          r.notePending = false;
        }
        if (r.count === 0 && !r.notePending) this.runs.delete(id);
      }

      if (this.touches.size > 0) {
        const batch = [...this.touches.values()];
        this.touches.clear();
        for (let i = 0; i < batch.length; i += FLUSH_AT_ITEMS) {
          const chunk = batch.slice(i, i + FLUSH_AT_ITEMS);
          try {
            // Last seen, and the source address among the host's learned addresses, in one
            // statement per chunk; a touch is due only when the address changes or a while has
            // passed (isSeenWriteDue), so addresses cost no write that last seen did not.
            await recordBootSightings(db, bootSightings(chunk));
          } catch (e) {
            if (!isConnectionError(e)) {
              dropped("last seen", { hosts: chunk.length }, e);
              continue;
            }
            // Keep them behind any newer touch of the same host taken meanwhile.
            for (const t of batch.slice(i)) if (!this.touches.has(t.hostId)) this.touches.set(t.hostId, t);
            throw e;
          }
        }
      }

      for (const d of [...this.discoveries.values()]) {
        try {
          await discoverHost(db, { mac: d.mac, hint: d.hint, sourceIp: d.sourceIp, now: d.at, siteId: this.p.siteId, arch: d.arch ?? null });
        } catch (e) {
          if (isConnectionError(e)) throw e;
          dropped("a discovery", { mac: d.mac }, e);
        }
        this.discoveries.delete(d.mac);
      }
      this.p.onFlushed({ ok: true });
      return { ok: true };
    } catch (error) {
      this.p.onFlushed({ ok: false, error });
      return { ok: false };
    }
  }
}

/**
 * Whether an error means the database could not be reached (refused, closed, shutting down,
 * starting up, timed out) rather than that it refused a statement. postgres.js gives the
 * server's SQLSTATE as `code` for the latter, and its own codes (CONNECTION_CLOSED, CONNECT_TIMEOUT…)
 * or the socket's (ECONNREFUSED…) for the former. An error without a code is a bug, not an outage.
 */
export function isConnectionError(e: unknown): boolean {
  // drizzle wraps the driver's error (DrizzleQueryError) and keeps it as the cause.
  const err = e as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = err?.code ?? err?.cause?.code;
  if (typeof code !== "string") return false;
  if (!/^[0-9A-Z]{5}$/.test(code) || /^E[A-Z]+$/.test(code)) return true;
  // 08: connection exception; 57P: the server is shutting down or starting; 53: out of resources.
  return code.startsWith("08") || code.startsWith("57P") || code.startsWith("53");
}

function dropped(what: string, data: Record<string, unknown>, e: unknown): void {
  getLogger("boot").error({ ...data, err: e instanceof Error ? e.message : String(e) }, `the database refused ${what} from the boot server; dropped`);
}
