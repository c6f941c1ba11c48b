// Renders person-written templates on a small pool of worker threads (at a lower CPU priority), so a runaway template
// can be stopped and never holds the web thread (where /boot/chain.ipxe and every other
// request are answered). Each worker runs under a heap limit (resourceLimits); each job has a
// hard wall-clock deadline. A worker that overruns either is terminated and replaced, and the
// caller gets a TemplateError of kind "limit", with the line and column the render had
// reached. The engine's own step budget (boot/template) stops almost everything first; the
// pool is what holds when it does not.
//
// The worker entry is a .ts file loaded by a path computed at run time, not an import a
// bundler could rewrite: Next's server bundle and vitest both leave it alone, and the worker
// loads TypeScript through tsx (inherited from `node --import tsx`, or added here).
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { DEFAULT_LIMITS, TemplateError, type Limits } from "@/boot/template";
import { positionAt } from "@/boot/template/errors";
import { getLogger } from "../log";
import type { RenderJob, RenderReply } from "./render-protocol";

/**
 * Heap of one worker. The engine's step budget (charged per item and per 32 characters built)
 * holds a render with the default limits to a few tens of MB, so this is set well above that:
 * it is a backstop, not the guard. When V8 does reach it, Node usually stops the worker, but an
 * allocation that fails outright makes V8 abort the whole process (seen in tests with the budget
 * switched off), so no render with Kiln's limits may get near it.
 */
export const RENDER_HEAP_MB = 256;
/** Renders at once: one core is always left to the web thread and the database (one on a 2-core machine). */
const POOL_SIZE = Math.max(1, Math.min(4, availableParallelism() - 1));
/** The deadline beyond the engine's own clock (timeoutMs), for start-up, GC and operations that do not tick. */
const DEADLINE_GRACE_MS = 1000;
/** How long a job may wait for a free worker before it is refused. */
const QUEUE_WAIT_MS = 10_000;
const MAX_QUEUE = 200;
/** Consecutive workers that die before they are ready: then the pool is broken, not the template. */
const MAX_START_FAILURES = 3;

type Pending = {
  job: RenderJob;
  deadlineMs: number;
  resolve: (output: string) => void;
  reject: (e: Error) => void;
  queuedAt: number;
  waitTimer?: NodeJS.Timeout;
};

type Slot = {
  worker: Worker;
  ready: boolean;
  probe: Int32Array;
  current: Pending | null;
  timer: NodeJS.Timeout | null;
  /** Why we stopped it, so its exit is not mistaken for a crash. */
  stopping: "deadline" | "memory" | "shutdown" | null;
};

export type RenderOptions = {
  limits?: Partial<Limits>;
  /** Hard wall-clock deadline for the job once a worker has it; default the engine's timeout + 1 s. */
  deadlineMs?: number;
};

// Looked up when first used, not at import: importing this module must not read the
// environment (the launcher reports a bad setting itself, without a stack trace).
const log = () => getLogger("render-pool");

function workerEntry(): string {
  const candidates: string[] = [];
  // Beside this file when run from the sources (tsx, vitest); in Next's server bundle this
  // module lives under .next, so fall back to the source tree the server runs in.
  try {
    const here = path.dirname(fileURLToPath(import.meta.url));
    // In the bundles npm start runs (.build/, scripts/bundle.mjs) this module is in .build/ or .build/chunks/.
    candidates.push(path.join(here, "render-worker.mjs"), path.join(here, "..", "render-worker.mjs"), path.join(here, "render-worker.ts"));
  } catch {
    /* not a file: URL inside a bundle */
  }
  candidates.push(path.join(process.cwd(), "lib", "templates", "render-worker.ts"));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`the template render worker is missing (looked for ${candidates.join(", ")})`);
  return found;
}

/** Node options for the worker: the parent's, plus tsx when the parent was not started with it (vitest). */
function workerExecArgv(entry: string): string[] {
  const args = process.execArgv;
  if (entry.endsWith(".mjs")) return [...args];
  const hasTsx = args.some((a, i) => (a === "--import" || a === "--require" || a === "--loader") && /(^|[/\\])tsx([/\\]|$)/.test(args[i + 1] ?? "")) || args.some((a) => /^--(import|require|loader)=.*tsx/.test(a));
  return hasTsx ? [...args] : [...args, "--import", "tsx"];
}

class RenderPool {
  private slots: Slot[] = [];
  private queue: Pending[] = [];
  private nextId = 1;
  private startFailures = 0;
  readonly stats = { renders: 0, compiles: 0, killedForTime: 0, killedForMemory: 0, refusedBusy: 0 };

  run(job: Omit<RenderJob, "id">, deadlineMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.queue.length >= MAX_QUEUE) {
        this.stats.refusedBusy++;
        reject(new TemplateError("Kiln is rendering too many templates right now; try again in a moment", 1, 1, "limit"));
        return;
      }
      const p: Pending = { job: { ...job, id: this.nextId++ }, deadlineMs, resolve, reject, queuedAt: Date.now() };
      p.waitTimer = setTimeout(() => {
        const i = this.queue.indexOf(p);
        if (i === -1) return;
        this.queue.splice(i, 1);
        this.stats.refusedBusy++;
        reject(new TemplateError(`Kiln is busy rendering other templates (waited ${QUEUE_WAIT_MS / 1000} s); try again in a moment`, 1, 1, "limit"));
      }, QUEUE_WAIT_MS);
      p.waitTimer.unref();
      this.queue.push(p);
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length) {
      const idle = this.slots.find((s) => s.ready && !s.current && !s.stopping);
      if (!idle) {
        if (this.slots.filter((s) => !s.stopping).length < POOL_SIZE) this.spawn();
        return;
      }
      const p = this.queue.shift()!;
      clearTimeout(p.waitTimer);
      idle.current = p;
      idle.timer = setTimeout(() => this.stop(idle, "deadline"), p.deadlineMs);
      idle.timer.unref();
      try {
        idle.worker.postMessage(p.job);
      } catch (e) {
        // A context that cannot be copied (a function, a symbol): Kiln's bug, not the template's.
        clearTimeout(idle.timer);
        idle.current = null;
        idle.timer = null;
        p.reject(e as Error);
      }
    }
  }

  private spawn(): void {
    const probe = new Int32Array(new SharedArrayBuffer(4));
    let worker: Worker;
    try {
      const entry = workerEntry();
      worker = new Worker(entry, {
        workerData: { probe: probe.buffer },
        execArgv: workerExecArgv(entry),
        resourceLimits: { maxOldGenerationSizeMb: RENDER_HEAP_MB, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
        stdout: false,
        stderr: false,
      });
    } catch (e) {
      this.failAll(e as Error);
      return;
    }
    // A pool that is idle must not keep a script or a test run alive.
    worker.unref();
    const slot: Slot = { worker, ready: false, probe, current: null, timer: null, stopping: null };
    this.slots.push(slot);
    worker.on("message", (m: RenderReply | { ready: true }) => {
      if ("ready" in m) {
        slot.ready = true;
        this.startFailures = 0;
        this.dispatch();
        return;
      }
      const p = slot.current;
      if (!p || p.job.id !== m.id) return;
      if (slot.timer) clearTimeout(slot.timer);
      slot.current = null;
      slot.timer = null;
      if (m.ok) p.resolve(m.output);
      else p.reject(new TemplateError(m.error.message, m.error.line, m.error.column, m.error.kind, m.error.suggestions, m.error.missing));
      this.dispatch();
    });
    worker.on("error", (err: Error & { code?: string }) => {
      if (err.code === "ERR_WORKER_OUT_OF_MEMORY") this.stop(slot, "memory");
      else log().error({ err: err.message }, "template render worker failed");
    });
    worker.on("exit", () => this.exited(slot));
  }

  /** Ends a worker's job with the reason, and the worker with it; exited() replaces it. */
  private stop(slot: Slot, why: "deadline" | "memory" | "shutdown"): void {
    if (slot.stopping) return;
    slot.stopping = why;
    if (slot.timer) clearTimeout(slot.timer);
    const p = slot.current;
    slot.current = null;
    if (p) {
      const source = p.job.source;
      const at = positionAt(source, Math.max(0, Math.min(source.length, slot.probe[0] ?? 0)));
      if (why === "deadline") {
        this.stats.killedForTime++;
        p.reject(new TemplateError(`The template took longer than ${p.deadlineMs} ms to render and was stopped`, at.line, at.column, "limit"));
      } else if (why === "memory") {
        this.stats.killedForMemory++;
        p.reject(new TemplateError(`The template needed more than ${RENDER_HEAP_MB} MB of memory and was stopped`, at.line, at.column, "limit"));
      } else p.reject(new Error("the template render pool was stopped"));
      if (why !== "shutdown") log().warn({ why, line: at.line, column: at.column }, "stopped a template render");
    }
    void slot.worker.terminate();
  }

  private exited(slot: Slot): void {
    this.slots = this.slots.filter((s) => s !== slot);
    if (slot.timer) clearTimeout(slot.timer);
    const p = slot.current;
    slot.current = null;
    if (!slot.ready && !slot.stopping) {
      // Died before it could take work: a broken installation (tsx missing, file gone).
      if (++this.startFailures >= MAX_START_FAILURES) {
        this.failAll(new Error("the template render worker does not start; see the web server's log"));
        this.startFailures = 0;
        return;
      }
    }
    if (p) p.reject(new TemplateError("The template stopped its renderer", 1, 1, "limit"));
    if (slot.stopping !== "shutdown") this.dispatch();
  }

  private failAll(e: Error): void {
    for (const p of this.queue.splice(0)) {
      clearTimeout(p.waitTimer);
      p.reject(e);
    }
  }

  async shutdown(): Promise<void> {
    this.failAll(new Error("the template render pool was stopped"));
    const slots = this.slots.splice(0);
    for (const s of slots) this.stop(s, "shutdown");
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  get workerCount(): number {
    return this.slots.length;
  }
}

let pool: RenderPool | null = null;
function getPool(): RenderPool {
  pool ??= new RenderPool();
  return pool;
}

/**
 * Compiles and renders a person's template off the web thread. Throws a TemplateError (with
 * line and column) for anything the template did wrong, including running too long or too big.
 */
export async function renderInPool(source: string, context: Record<string, unknown>, opts: RenderOptions = {}): Promise<string> {
  const p = getPool();
  p.stats.renders++;
  const timeoutMs = opts.limits?.timeoutMs ?? DEFAULT_LIMITS.timeoutMs;
  return p.run({ op: "render", source, context, limits: opts.limits }, opts.deadlineMs ?? timeoutMs + DEADLINE_GRACE_MS);
}

/** Checks that a template parses, off the web thread; throws a TemplateError if not. */
export async function compileInPool(source: string, opts: { deadlineMs?: number } = {}): Promise<void> {
  const p = getPool();
  p.stats.compiles++;
  await p.run({ op: "compile", source }, opts.deadlineMs ?? DEFAULT_LIMITS.timeoutMs + DEADLINE_GRACE_MS);
}

/** Counters for tests and diagnostics: jobs asked for, workers stopped, jobs refused as busy. */
export function renderPoolStats() {
  const p = getPool();
  return { ...p.stats, workers: p.workerCount };
}

/** Stops every worker (tests; a web process just exits). */
export async function stopRenderPool(): Promise<void> {
  const p = pool;
  pool = null;
  await p?.shutdown();
}
