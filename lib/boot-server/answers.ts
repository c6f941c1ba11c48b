// One file: the BootAnswers class; its memory, invalidation on `kiln_boot` and outage rules are one
// cache and change together.
// The boot server's answers to GET /boot/<mac>, from memory. Each MAC's answer (local boot, a
// halt, or its run's stored script with the token put in) is read from PostgreSQL once, by the
// same code as the uncached path (lib/boot/boot-service.ts), and kept until a trigger announces
// on `kiln_boot` that something it was decided from changed (db/migrations/0011_boot-answer-notify.sql and 0012).
// A hit is a map lookup: no query, no promise, no log line. The writes a request causes (last
// seen, discovery, the run's boot) go to BootWrites, which batches them off the answer's path.
//
// PostgreSQL away: known machines get the answer in memory; a MAC not in memory gets local
// boot (the rule for unknown or unreadable), logged once per outage. When the LISTEN
// connection comes back (postgres.js reconnects it by itself) the whole memory is dropped,
// since announcements may have been missed, and the waiting writes go out.
import { findHostByMac } from "@/db/queries/boot";
import { pingDatabase } from "@/db/queries/health";
import { listenChannel, type ListenHandle } from "@/db/listen";
import { badMacAnswer, cleanHint, isSeenWriteDue, loadHostBootPlan, localBootAnswer, recordBrokenDeployment, type BootAnswer, type HostBootPlan } from "../boot/boot-service";
import type { Db } from "../db";
import { normalizeMac } from "../validation/mac";
import { getLogger } from "../log";
import { BootWrites, isConnectionError } from "./writes";
import { getEnv } from "../env";
import { commissionOnArrival } from "../deployments/commission";
import { archOfBuildArch } from "../hosts/arch";

export type { BootAnswer } from "../boot/boot-service";
/** `arch`: iPXE's ${buildarch} from the chain script's URL, as sent (recorded only for a new host). */
export type BootRequest = { mac: string; hostnameHint: string | null; sourceIp: string | null; arch?: string | null };

/** The channel the triggers announce on; the payload is `{"h": hostId, "m": mac}` (either may be missing), or `*` for everything. */
export const BOOT_CHANNEL = "kiln_boot";
/** A miss waits this long for the database, then the machine boots its disk (it asks again at its next boot). */
const MISS_TIMEOUT_MS = 3_000;
/** How long a run's first boot waits for its write before the machine is answered anyway (it stays queued). */
const FIRST_BOOT_WRITE_WAIT_MS = 2_000;
/** Forms of a MAC as machines send them (aa-bb-…, AA:BB:…) → the stored form; bounded, rebuilt when full. */
const MAX_MAC_FORMS = 50_000;
/** Unknown MACs remembered as unknown: a flood of made-up MACs must not grow memory without end (past it, each is read again). */
const MAX_UNKNOWN = 100_000;

/** `p`'s value, or null once `ms` have passed (`p` goes on; nothing waits for it). */
function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  return Promise.race([p, new Promise<null>((r) => setTimeout(() => r(null), ms).unref())]);
}

type HostEntry = { kind: "host"; hostId: string; lastSeenAt: Date | null; sourceIp: string | null; plan: HostBootPlan };
type Entry = { kind: "unknown" } | HostEntry;
const UNKNOWN: Entry = Object.freeze({ kind: "unknown" });

/** A read in flight for one MAC. `stale`: something it may have read changed meanwhile, so its result is answered but not kept. */
type Load = { promise: Promise<Entry>; hostId: string | undefined; stale: boolean };

export class BootAnswers {
  private readonly db: Db;
  private readonly databaseUrl: string;
  private readonly nowMs: () => number;
  private readonly writes: BootWrites;
  private readonly entries = new Map<string, Entry>();
  private readonly macsOfHost = new Map<string, Set<string>>();
  private readonly loads = new Map<string, Load>();
  private readonly macForms = new Map<string, string>();
  private listen: ListenHandle | null = null;
  /** Only while LISTEN is established may answers be kept: otherwise nothing would tell us they changed. */
  private listening = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private probing = false;
  private databaseUp = true;
  private unknownCount = 0;
  private outageMisses = 0;
  private lastFailureLogMs = 0;
  private counters = { hits: 0, misses: 0, errors: 0 };
  /** KILN_COMMISSION_ON_DISCOVERY, read once: a boot server is restarted to change it. */
  private readonly commissionOnArrival: boolean;

  constructor(p: { db: Db; databaseUrl: string; siteId?: string | null; now?: () => Date }) {
    this.db = p.db;
    this.databaseUrl = p.databaseUrl;
    const now = p.now;
    this.nowMs = now ? () => now().getTime() : Date.now;
    this.commissionOnArrival = getEnv().KILN_COMMISSION_ON_DISCOVERY;
    this.writes = new BootWrites({ db: p.db, siteId: p.siteId ?? null, onFlushed: (r) => (r.ok ? this.markUp() : this.markDown(r.error)) });
  }

  async start(): Promise<void> {
    this.writes.start();
    // A boot server started while PostgreSQL is away still answers (local boot for all) and listens once it can.
    await this.tryListen();
    this.probeTimer = setInterval(() => void this.probe(), 1_000);
    this.probeTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.probeTimer) clearInterval(this.probeTimer);
    const flushed = await this.writes.stop();
    if (!flushed.ok) getLogger("boot").warn({ pendingWrites: this.writes.pending }, "boot server stopped with writes not flushed (database unreachable)");
    this.listening = false;
    await this.listen?.close();
    this.listen = null;
  }

  stats() {
    return { ...this.counters, entries: this.entries.size, pendingWrites: this.writes.pending, databaseUp: this.databaseUp };
  }

  /** Writes what is waiting now (tests, and a caller that wants them out before it reads). */
  flush(): Promise<{ ok: boolean }> {
    return this.writes.flush();
  }

  answer(req: BootRequest): BootAnswer | Promise<BootAnswer> {
    const mac = this.macOf(req.mac);
    if (mac === null) return badMacAnswer(req.mac);
    const entry = this.entries.get(mac);
    if (entry !== undefined) {
      this.counters.hits++;
      if (entry.kind === "unknown" && this.commissionOnArrival) return this.arrival(mac, req, false);
      return this.respond(entry, mac, req, this.nowMs());
    }
    this.counters.misses++;
    return this.miss(mac, req);
  }

  /** The per-request part of an answer: what it costs the database is only queued here. */
  private respond(entry: Entry, mac: string, req: BootRequest, nowMs: number): BootAnswer {
    if (entry.kind === "unknown") {
      this.writes.discover({ mac, hint: cleanHint(req.hostnameHint), sourceIp: req.sourceIp, arch: archOfBuildArch(req.arch), at: new Date(nowMs) });
      return localBootAnswer();
    }
    if (isSeenWriteDue(entry, req.sourceIp, nowMs)) {
      const at = new Date(nowMs);
      entry.lastSeenAt = at;
      entry.sourceIp = req.sourceIp;
      this.writes.touch(entry.hostId, at, req.sourceIp, mac);
    }
    const plan = entry.plan;
    if (plan.kind === "run") {
      // The token's expiry is checked per answer: an expired run is no longer offered, even from memory.
      if (plan.tokenExpiresAtMs <= nowMs) return localBootAnswer();
      this.writes.runBooted(plan.deploymentId, new Date(nowMs));
    }
    return plan.answer;
  }

  private macOf(raw: string): string | null {
    let mac = this.macForms.get(raw);
    if (mac !== undefined) return mac;
    mac = normalizeMac(raw) ?? undefined;
    if (mac === undefined) return null;
    // Only forms of MACs we keep answers for are remembered, so random paths cannot grow this.
    if (this.entries.has(mac)) {
      if (this.macForms.size >= MAX_MAC_FORMS) this.macForms.clear();
      this.macForms.set(raw, mac);
    }
    return mac;
  }

  private async miss(mac: string, req: BootRequest): Promise<BootAnswer> {
    if (!this.databaseUp) return this.unreadable(mac, req);
    let load = this.loads.get(mac);
    const own = !load;
    if (!load) load = this.startLoad(mac);
    let timer: NodeJS.Timeout | undefined;
    try {
      const entry = await Promise.race([
        load.promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error(`no answer from the database within ${MISS_TIMEOUT_MS} ms`), { code: "ETIMEDOUT" })), MISS_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (entry.kind === "unknown" && this.commissionOnArrival) return await this.arrival(mac, req, true);
      const answer = this.respond(entry, mac, req, this.nowMs());
      // A run's first boot after its answer was (re)read — its first boot at all, most often —
      // is written before the machine gets its script, as the uncached path does: it moves the
      // run to running and starts its boot step, so a crash must not lose it. Later boots (hits)
      // are batched; a crash loses at most their count and log line.
      if (own && entry.kind === "host" && entry.plan.kind === "run" && answer === entry.plan.answer) {
        await within(this.writes.flush(), FIRST_BOOT_WRITE_WAIT_MS);
      }
      return answer;
    } catch (e) {
      if (isConnectionError(e)) this.markDown(e);
      else this.logFailure(e);
      return this.unreadable(mac, req);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A machine's first network boot while commissioning on discovery is on: its discovery (and,
   * with it, its commissioning run) is written now rather than in the next batch, and the
   * machine is answered as the host it has become, so it boots the ramdisk at this very boot
   * ("every new machine has facts within one boot"). Whatever does not happen in time — the
   * write, the read — leaves the answer local boot, as for any unknown MAC; the run exists by
   * then or is made at the next boot (lib/deployments/commission.ts isArrivalCommissionDue).
   */
  private async arrival(mac: string, req: BootRequest, counted: boolean): Promise<BootAnswer> {
    if (!counted) this.counters.misses++;
    const queued = this.writes.discover({ mac, hint: cleanHint(req.hostnameHint), sourceIp: req.sourceIp, arch: archOfBuildArch(req.arch), at: new Date(this.nowMs()) });
    // Over its source's flood limit: nothing is written, so there is nothing new to read.
    if (!queued) return localBootAnswer();
    const flushed = await within(this.writes.flush(), FIRST_BOOT_WRITE_WAIT_MS);
    if (!flushed?.ok) return localBootAnswer();
    // The unknown entry is stale now (the interface's NOTIFY may not have arrived yet).
    this.dropMac(mac);
    const load = this.loads.get(mac) ?? this.startLoad(mac);
    const entry = await within(load.promise.catch(() => null), MISS_TIMEOUT_MS);
    if (!entry || entry.kind === "unknown") return localBootAnswer();
    const answer = this.respond(entry, mac, req, this.nowMs());
    // As for any run's first boot after a read: its boot is written before the machine gets its script.
    if (entry.plan.kind === "run" && answer === entry.plan.answer) await within(this.writes.flush(), FIRST_BOOT_WRITE_WAIT_MS);
    return answer;
  }

  /** The database cannot tell us who this is: local boot (never a run, never a halt we cannot confirm). */
  private unreadable(mac: string, req: BootRequest): BootAnswer {
    this.counters.errors++;
    this.outageMisses++;
    // Unknown or known, the write below sorts it out when the database is back (a known MAC is not discovered twice).
    this.writes.discover({ mac, hint: cleanHint(req.hostnameHint), sourceIp: req.sourceIp, arch: archOfBuildArch(req.arch), at: new Date(this.nowMs()) });
    return localBootAnswer();
  }

  private startLoad(mac: string): Load {
    const load: Load = { promise: undefined as never, hostId: undefined, stale: false };
    load.promise = (async (): Promise<Entry> => {
      try {
        const found = await findHostByMac(this.db, mac);
        if (!found) {
          this.keep(mac, load, UNKNOWN);
          return UNKNOWN;
        }
        const { host } = found;
        load.hostId = host.id;
        // A new machine recorded without its commissioning run (a crash in between): made now.
        if (this.commissionOnArrival) await commissionOnArrival(this.db, host, new Date(this.nowMs()));
        const plan = await loadHostBootPlan(this.db, { host, mac, now: new Date(this.nowMs()) });
        const entry: HostEntry = { kind: "host", hostId: host.id, lastSeenAt: host.lastSeenAt, sourceIp: host.sourceIp, plan };
        // A run that cannot be rendered fails now, once; its change is announced and the next request reads again.
        if (plan.kind === "broken") await recordBrokenDeployment(this.db, plan, new Date(this.nowMs()));
        else this.keep(mac, load, entry);
        return entry;
      } finally {
        if (this.loads.get(mac) === load) this.loads.delete(mac);
      }
    })();
    this.loads.set(mac, load);
    return load;
  }

  private keep(mac: string, load: Load, entry: Entry): void {
    if (load.stale || !this.listening || this.stopped) return;
    this.dropMac(mac);
    if (entry.kind === "unknown") {
      if (this.unknownCount >= MAX_UNKNOWN) return;
      this.unknownCount++;
    }
    this.entries.set(mac, entry);
    if (entry.kind === "host") {
      let macs = this.macsOfHost.get(entry.hostId);
      if (!macs) this.macsOfHost.set(entry.hostId, (macs = new Set()));
      macs.add(mac);
    }
  }

  private dropMac(mac: string): void {
    const entry = this.entries.get(mac);
    if (entry === undefined) return;
    this.entries.delete(mac);
    if (entry.kind === "unknown") this.unknownCount--;
    else this.macsOfHost.get(entry.hostId)?.delete(mac);
  }

  private dropHost(hostId: string): void {
    const macs = this.macsOfHost.get(hostId);
    if (!macs) return;
    this.macsOfHost.delete(hostId);
    for (const mac of macs) {
      const entry = this.entries.get(mac);
      if (entry?.kind === "host" && entry.hostId === hostId) this.entries.delete(mac);
    }
  }

  private dropAll(): void {
    this.entries.clear();
    this.unknownCount = 0;
    this.macsOfHost.clear();
    this.macForms.clear();
    for (const load of this.loads.values()) load.stale = true;
  }

  private onNotify(payload: string): void {
    let h: string | undefined;
    let m: string | undefined;
    try {
      if (payload === "*") return this.dropAll();
      const parsed = JSON.parse(payload) as { h?: unknown; m?: unknown };
      if (typeof parsed.h === "string") h = parsed.h;
      if (typeof parsed.m === "string") m = parsed.m;
    } catch {
      // Not ours to read: drop everything rather than keep something that may have changed.
      return this.dropAll();
    }
    if (h) this.dropHost(h);
    if (m) this.dropMac(m);
    // A read in flight may have seen the row before this change: answer it, but do not keep it.
    for (const [mac, load] of this.loads) {
      if (mac === m || load.hostId === undefined || load.hostId === h) load.stale = true;
    }
  }

  private onListen(): void {
    // First LISTEN, or again after the connection came back: what was announced meanwhile is unknown.
    this.dropAll();
    this.listening = true;
    this.markUp();
    void this.writes.flush();
  }

  private async tryListen(): Promise<void> {
    if (this.stopped || this.listen) return;
    try {
      this.listen = await listenChannel(
        this.databaseUrl,
        BOOT_CHANNEL,
        (payload) => this.onNotify(payload),
        () => this.onListen(),
      );
      if (this.stopped) await this.listen.close();
    } catch (e) {
      this.markDown(e);
      this.retryTimer = setTimeout(() => void this.tryListen(), 2_000);
      this.retryTimer.unref();
    }
  }

  /** While the database is away: one cheap query a second tells when it is back, so misses read it again. */
  private async probe(): Promise<void> {
    if (this.databaseUp || this.probing || this.stopped) return;
    this.probing = true;
    try {
      await pingDatabase(this.db);
      this.markUp();
      void this.writes.flush();
    } catch {
      // Still away; logged once when the outage began.
    } finally {
      this.probing = false;
    }
  }

  /** A read that failed for another reason than an outage (a bug, a refused statement): logged at most once a minute. */
  private logFailure(error: unknown): void {
    const nowMs = Date.now();
    if (nowMs - this.lastFailureLogMs < 60_000) return;
    this.lastFailureLogMs = nowMs;
    getLogger("boot").error({ err: error instanceof Error ? error.message : String(error) }, "reading a MAC's boot answer failed; answering local boot");
  }

  private markDown(error: unknown): void {
    if (!this.databaseUp) return;
    this.databaseUp = false;
    this.outageMisses = 0;
    getLogger("boot").warn(
      { err: error instanceof Error ? error.message : String(error), entries: this.entries.size },
      "database unreachable: answering known machines from memory, others with local boot, and keeping writes until it is back",
    );
  }

  private markUp(): void {
    if (this.databaseUp) return;
    this.databaseUp = true;
    getLogger("boot").info({ localBootAnswers: this.outageMisses, pendingWrites: this.writes.pending }, "database reachable again");
  }
}
