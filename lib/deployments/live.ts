// Live status: one LISTEN connection per web process, fanned out to every open event stream
// of a host. A notification only says "host H has news up to event N"; each stream reads the
// rows it has not sent from deployment_events, so nothing depends on a notification's
// delivery: after the listener reconnects (PostgreSQL restarted) every stream catches up, and
// a slow poll covers anything else.
import { DEPLOYMENT_EVENTS_CHANNEL, listEventsAfter, lastEventId } from "@/db/queries/deployments";
import { listenChannel, type ListenHandle } from "@/db/listen";
import type { Db } from "../db";
import type { Actor } from "../access/actor";
import { assertHostHolder } from "../access/hosts";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { getLogger } from "../log";

type Wake = () => void;

class Hub {
  private subscribers = new Map<string, Set<Wake>>();
  private listening: Promise<ListenHandle | null> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;

  subscribe(hostId: string, wake: Wake): () => void {
    let set = this.subscribers.get(hostId);
    if (!set) this.subscribers.set(hostId, (set = new Set()));
    set.add(wake);
    this.ensureListening();
    return () => {
      set!.delete(wake);
      if (set!.size === 0) this.subscribers.delete(hostId);
    };
  }

  private wakeHost(hostId: string): void {
    for (const wake of this.subscribers.get(hostId) ?? []) wake();
  }

  private wakeAll(): void {
    for (const set of this.subscribers.values()) for (const wake of set) wake();
  }

  private ensureListening(): void {
    if (this.listening) return;
    const url = getEnv().DATABASE_URL;
    if (!url) return;
    this.listening = listenChannel(
      url,
      DEPLOYMENT_EVENTS_CHANNEL,
      (payload) => {
        try {
          const { h } = JSON.parse(payload) as { h: string };
          this.wakeHost(h);
        } catch {
          // Not ours; ignore.
        }
      },
      () => this.wakeAll(),
    ).catch((err) => {
      getLogger("live").warn({ err: err instanceof Error ? err.message : err }, "cannot LISTEN for deployment events yet; retrying");
      this.listening = null;
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = null;
        if (this.subscribers.size > 0) this.ensureListening();
      }, 2_000);
      return null;
    });
  }

  async close(): Promise<void> {
    const handle = await this.listening;
    this.listening = null;
    await handle?.close();
  }
}

const globalForLive = globalThis as unknown as { kilnLiveHub?: Hub };

function hub(): Hub {
  globalForLive.kilnLiveHub ??= new Hub();
  return globalForLive.kilnLiveHub;
}

/** Closes this process's listener (tests). */
export async function stopLiveHub(): Promise<void> {
  const h = globalForLive.kilnLiveHub;
  delete globalForLive.kilnLiveHub;
  await h?.close();
}

export type StreamOptions = {
  /** Last-Event-ID (or ?after=): send what came after it; without one, only what comes next. */
  after: number | null;
  signal?: AbortSignal;
  /** Safety-net poll and keep-alive comment intervals (tests shorten them). */
  pollMs?: number;
  keepAliveMs?: number;
};

const BATCH = 500;

function frame(e: { id: number; kind: string; at: Date; data: Record<string, unknown> }): string {
  return `id: ${e.id}\ndata: ${JSON.stringify({ id: e.id, kind: e.kind, at: e.at.toISOString(), ...e.data })}\n\n`;
}

/**
 * GET /api/v1/hosts/:id/events — the host's feed as Server-Sent Events. Access is checked
 * before the stream opens and again before each batch: when the holder's lease ends, the
 * stream ends.
 */
export async function openHostEventStream(db: Db, actor: Actor, hostId: string, opts: StreamOptions): Promise<ReadableStream<Uint8Array>> {
  await assertHostHolder(db, actor, hostId);
  let last = opts.after ?? (await lastEventId(db, hostId));
  const encoder = new TextEncoder();
  let closed = false;
  let chain: Promise<void> = Promise.resolve();
  let again = false;
  let cleanup = () => {};

  return new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        if (!closed) controller.enqueue(encoder.encode(text));
      };
      const close = () => {
        if (closed) return;
        closed = true;
        cleanup();
        try {
          controller.close();
        } catch {
          // Already closed by the client.
        }
      };
      const flush = async () => {
        do {
          again = false;
          try {
            await assertHostHolder(db, actor, hostId);
          } catch (e) {
            // Only a refusal ends the stream; a database hiccup is retried at the next wake.
            if (!(e instanceof AppError)) throw e;
            send(`event: end\ndata: {"reason":"no longer yours"}\n\n`);
            return close();
          }
          for (;;) {
            const rows = await listEventsAfter(db, { hostId, afterId: last, limit: BATCH });
            for (const r of rows) {
              send(frame(r));
              last = r.id;
            }
            if (rows.length < BATCH || closed) break;
          }
        } while (again && !closed);
      };
      const wake = () => {
        if (closed) return;
        again = true;
        chain = chain.then(flush).catch((err) => getLogger("live").warn({ err: err instanceof Error ? err.message : err, hostId }, "event stream read failed; the next wake retries"));
      };
      const unsubscribe = hub().subscribe(hostId, wake);
      const poll = setInterval(wake, opts.pollMs ?? 15_000);
      const keepAlive = setInterval(() => send(": keep-alive\n\n"), opts.keepAliveMs ?? 20_000);
      cleanup = () => {
        unsubscribe();
        clearInterval(poll);
        clearInterval(keepAlive);
      };
      opts.signal?.addEventListener("abort", close, { once: true });
      // Browsers wait this long before reconnecting (with Last-Event-ID).
      send(`retry: 2000\n\n`);
      wake();
    },
    cancel() {
      closed = true;
      cleanup();
    },
  });
}
