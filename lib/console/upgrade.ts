// The console's WebSocket on the boot server (it sits near the machines; the portal's port
// forwards /console/<host id> here). The browser's bytes are keystrokes for the machine; the
// machine's bytes go back as binary frames, Kiln's own notices as coloured lines among them.
import type http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { Db } from "../db";
import { isAppError, toErrorBody } from "../errors";
import { getLogger } from "../log";
import { clientIpOf } from "../boot-server/proxy";
import { uuidSchema } from "../validation/common";
import { admitConsoleTicket, isStillConsoleViewer } from "./console";
import { CONSOLE_PATH_PREFIX } from "./paths";
import type { ConsoleHub } from "./hub";
import { TicketBook } from "./ticket";

/** A viewer that stops reading is dropped past this, rather than holding the machine's output in memory. */
const MAX_BUFFERED = 4 * 1024 * 1024;
const PING_MS = 30_000;
/** How often an open console re-checks that its viewer still holds the host. */
export const RECHECK_MS = 30_000;

function refuse(socket: Duplex, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  const reason = status === 401 ? "Unauthorized" : status === 404 ? "Not Found" : status === 400 ? "Bad Request" : "Error";
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncache-control: no-store\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
}

export function noticeBytes(text: string): Buffer {
  return Buffer.from(`\r\n\x1b[33m[Kiln] ${text}\x1b[0m\r\n`, "utf8");
}

export type ConsoleUpgrade = ((req: http.IncomingMessage, socket: Duplex, head: Buffer) => void) & {
  /** Ends every viewer's WebSocket (the server stops; they would hold its close open). */
  close(): void;
};

export function createConsoleUpgrade(o: { db: Db; hub: ConsoleHub; book?: TicketBook; recheckMs?: number }): ConsoleUpgrade {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const book = o.book ?? new TicketBook();
  const log = getLogger("console");

  const attach = (ws: WebSocket, hostId: string, userId: string) => {
    const send = (b: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED) return void ws.terminate();
      ws.send(b, { binary: true });
    };
    const handle = o.hub.subscribe(hostId, { data: send, notice: (t) => send(noticeBytes(t)) });
    let alive = true;
    ws.on("pong", () => (alive = true));
    const ping = setInterval(() => {
      if (!alive) return void ws.terminate();
      alive = false;
      ws.ping();
    }, PING_MS);
    ping.unref();
    // A lease that ends (or an account disabled) ends the watching; a database that is away does not.
    const recheck = setInterval(() => {
      isStillConsoleViewer(o.db, { hostId, userId }).then(
        (still) => {
          if (still || ws.readyState !== ws.OPEN) return;
          send(noticeBytes("You no longer hold this machine; the console is closed."));
          ws.close(4403, "no longer the holder");
        },
        () => {},
      );
    }, o.recheckMs ?? RECHECK_MS);
    recheck.unref();
    ws.on("message", (d: Buffer | ArrayBuffer | Buffer[]) => handle.write(Array.isArray(d) ? Buffer.concat(d) : Buffer.isBuffer(d) ? d : Buffer.from(d)));
    ws.on("close", () => {
      clearInterval(ping);
      clearInterval(recheck);
      handle.leave();
      log.info({ hostId, userId }, "console viewer left");
    });
    ws.on("error", () => ws.terminate());
    log.info({ hostId, userId }, "console viewer attached");
  };

  const upgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const url = new URL(req.url ?? "/", "http://boot-server");
    if (!url.pathname.startsWith(CONSOLE_PATH_PREFIX)) return refuse(socket, 404, { error: { code: "not_found", message: "Only the console (/console/<host id>) speaks WebSocket here." } });
    const hostId = url.pathname.slice(CONSOLE_PATH_PREFIX.length);
    if (!uuidSchema.safeParse(hostId).success) return refuse(socket, 404, { error: { code: "not_found", message: "That host does not exist." } });
    const ticket = url.searchParams.get("ticket");
    if (!ticket) return refuse(socket, 401, { error: { code: "unauthorized", message: "Open the console from the host page: the WebSocket needs its ticket." } });
    admitConsoleTicket(o.db, book, { hostId, ticket, ip: clientIpOf(req) }).then(
      ({ userId }) => wss.handleUpgrade(req, socket, head, (ws) => attach(ws, hostId, userId)),
      (e) => {
        if (!isAppError(e)) log.error({ err: e, hostId }, "console ticket check failed");
        const { status, body } = toErrorBody(e);
        refuse(socket, status, body);
      },
    );
  };
  return Object.assign(upgrade, {
    close: () => {
      for (const ws of wss.clients) ws.terminate();
    },
  });
}
