// One attachment per machine, shared by everyone watching it. A QEMU serial socket takes one
// client and a BMC one SOL session, so a second browser (or the run's tail recorder) must not
// open its own: they all subscribe here, see the same bytes, and their keystrokes go to the
// one link. The attachment lives while it has a subscriber; a machine that is off or
// rebooting (QEMU gone, socket absent) is retried every few seconds, so the console carries
// on across power cycles. A newcomer first gets the recent output, to see where things are.
import { getLogger } from "../log";
import { ConsoleError, openConsoleLink, type ConsoleLink, type ConsoleSpec } from "./sources";

export type ConsoleSubscriber = {
  data(chunk: Buffer): void;
  /** Kiln's own lines about the attachment (waiting, closed), not machine output. */
  notice?(text: string): void;
};

export type ConsoleHandle = { write(data: Buffer | string): void; leave(): void };

type Attachment = {
  hostId: string;
  subs: Set<ConsoleSubscriber>;
  link: ConsoleLink | null;
  recent: Buffer[];
  recentBytes: number;
  lastNotice: string;
  timer: NodeJS.Timeout | null;
  connecting: boolean;
};

const RECENT_BYTES = 16 * 1024;

export class ConsoleHub {
  private attachments = new Map<string, Attachment>();
  private readonly log = getLogger("console");

  constructor(
    private readonly o: {
      /** The host's console as of now; re-read at each (re)connect, so edited params apply. */
      resolve(hostId: string): Promise<ConsoleSpec | { none: string }>;
      retryMs?: number;
    },
  ) {}

  /** Hosts with an open attachment (tests, and the recorder's "no double attach" check). */
  attachedHosts(): string[] {
    return [...this.attachments.values()].filter((a) => a.link).map((a) => a.hostId);
  }

  subscriberCount(hostId: string): number {
    return this.attachments.get(hostId)?.subs.size ?? 0;
  }

  subscribe(hostId: string, sub: ConsoleSubscriber, opts: { replay?: boolean } = {}): ConsoleHandle {
    let a = this.attachments.get(hostId);
    if (!a) {
      a = { hostId, subs: new Set(), link: null, recent: [], recentBytes: 0, lastNotice: "", timer: null, connecting: false };
      this.attachments.set(hostId, a);
    }
    a.subs.add(sub);
    if (opts.replay !== false && a.recent.length) sub.data(Buffer.concat(a.recent));
    if (a.lastNotice && !a.link) sub.notice?.(a.lastNotice);
    if (!a.link && !a.connecting && !a.timer) void this.connect(a);
    const att = a;
    return {
      write: (d) => att.link?.write(typeof d === "string" ? Buffer.from(d, "utf8") : d),
      leave: () => {
        att.subs.delete(sub);
        if (att.subs.size === 0) this.detach(att);
      },
    };
  }

  /** Closes every attachment (process stopping). */
  closeAll(): void {
    for (const a of [...this.attachments.values()]) {
      a.subs.clear();
      this.detach(a);
    }
  }

  private detach(a: Attachment): void {
    if (this.attachments.get(a.hostId) === a) this.attachments.delete(a.hostId);
    if (a.timer) clearTimeout(a.timer);
    a.timer = null;
    a.link?.close();
    a.link = null;
  }

  private notice(a: Attachment, text: string): void {
    if (text === a.lastNotice) return;
    a.lastNotice = text;
    for (const s of a.subs) s.notice?.(text);
  }

  private live(a: Attachment): boolean {
    return this.attachments.get(a.hostId) === a && a.subs.size > 0;
  }

  private retry(a: Attachment): void {
    if (!this.live(a)) return;
    a.timer = setTimeout(() => {
      a.timer = null;
      void this.connect(a);
    }, this.o.retryMs ?? 2000);
    a.timer.unref();
  }

  private async connect(a: Attachment): Promise<void> {
    a.connecting = true;
    try {
      const spec = await this.o.resolve(a.hostId);
      if ("none" in spec) {
        this.notice(a, spec.none);
        return this.retry(a);
      }
      // Events of a link that was replaced or closed are ignored: `mine` says which is current.
      let mine: ConsoleLink | null = null;
      const link = await openConsoleLink(spec, {
        data: (chunk) => {
          if (!mine || a.link !== mine) return;
          a.recent.push(chunk);
          a.recentBytes += chunk.length;
          while (a.recentBytes > RECENT_BYTES && a.recent.length > 1) a.recentBytes -= a.recent.shift()!.length;
          for (const s of a.subs) s.data(chunk);
        },
        closed: (reason) => {
          if (!mine || a.link !== mine) return;
          a.link = null;
          this.notice(a, `${reason} Waiting for it to come back…`);
          this.retry(a);
        },
      });
      if (!this.live(a)) return link.close();
      mine = link;
      a.link = link;
      this.notice(a, "Connected.");
    } catch (e) {
      if (!(e instanceof ConsoleError)) this.log.warn({ err: e, hostId: a.hostId }, "console attach failed");
      const msg = e instanceof ConsoleError ? e.message : "The console could not be opened.";
      this.notice(a, e instanceof ConsoleError && e.retryable ? `${msg} Waiting for it…` : `${msg} Retrying…`);
      this.retry(a);
    } finally {
      a.connecting = false;
    }
  }
}
