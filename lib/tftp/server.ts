// A small read-only TFTP server (RFC 1350, with RFC 2347/2348/2349 blksize, tsize, timeout),
// whose every file is answered by a function at request time: nothing is served from a
// directory, so the caller decides per request (a Raspberry Pi's files by its serial number,
// lib/pi/pi-tftp.ts). Each transfer gets its own socket (its TID), retransmits its last
// packet on a timeout, ignores duplicate ACKs (no Sorcerer's Apprentice), and gives up after a
// few silent timeouts. Written here because no maintained Node TFTP server exists (npm `tftp`,
// 0.1.2, has had no release in a decade) and Debian's servers (dnsmasq: port 69 only;
// tftpd-hpa: files from a directory) cannot ask Kiln at request time.
import dgram from "node:dgram";
import net from "node:net";
import { decodePacket, encodeData, encodeError, encodeOack, ERR, MAX_BLKSIZE, negotiate, TftpPacketError, type Request } from "./packet";

export type TftpFile = { size: number; read(offset: number, length: number): Promise<Buffer> };
export type TftpAnswer = { kind: "file"; file: TftpFile } | { kind: "error"; code: number; message: string };
export type TftpPeer = { address: string; port: number };
/** Answers one read request; a thrown error becomes an "access violation" without details. */
export type TftpResolve = (filename: string, peer: TftpPeer) => Promise<TftpAnswer>;

export type TftpServerOptions = {
  resolve: TftpResolve;
  host?: string;
  port: number;
  /** Until the first retransmission when the client asked for no timeout (ms). */
  timeoutMs?: number;
  /** Retransmissions of one packet before the transfer is given up. */
  retries?: number;
  /** The largest blksize agreed to (RFC 2348 allows up to 65464). */
  maxBlksize?: number;
  /** Transfers at once; a request beyond them is refused (error 0, "busy"). */
  maxTransfers?: number;
  onTransfer?: (t: { filename: string; peer: TftpPeer; outcome: "done" | "failed" | "refused"; bytes: number; detail?: string }) => void;
};

/** A file answered from memory. */
export function bufferFile(data: Buffer): TftpFile {
  return { size: data.length, read: async (offset, length) => data.subarray(offset, offset + length) };
}

export function tftpError(code: number, message: string): TftpAnswer {
  return { kind: "error", code, message };
}

export class TftpServer {
  private socket: dgram.Socket | null = null;
  private readonly transfers = new Set<Transfer>();
  private readonly o: Required<Omit<TftpServerOptions, "onTransfer" | "host">> & Pick<TftpServerOptions, "onTransfer" | "host">;

  constructor(o: TftpServerOptions) {
    this.o = { timeoutMs: 1_000, retries: 5, maxBlksize: MAX_BLKSIZE, maxTransfers: 256, ...o };
  }

  get address(): { address: string; port: number } {
    const a = this.socket?.address();
    if (!a) throw new Error("the TFTP server is not listening");
    return { address: a.address, port: a.port };
  }

  async listen(): Promise<{ address: string; port: number }> {
    const host = this.o.host ?? "0.0.0.0";
    const socket = dgram.createSocket({ type: net.isIPv6(host) ? "udp6" : "udp4" });
    socket.on("message", (msg, rinfo) => this.onRequest(msg, { address: rinfo.address, port: rinfo.port }));
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind({ port: this.o.port, address: host }, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    // After binding, a socket error (ICMP unreachable on some systems) must not end the process.
    socket.on("error", () => {});
    this.socket = socket;
    return this.address;
  }

  async close(): Promise<void> {
    for (const t of this.transfers) t.end();
    const s = this.socket;
    this.socket = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private reply(peer: TftpPeer, packet: Buffer): void {
    this.socket?.send(packet, peer.port, peer.address);
  }

  private onRequest(msg: Buffer, peer: TftpPeer): void {
    let packet;
    try {
      packet = decodePacket(msg);
    } catch (e) {
      if (e instanceof TftpPacketError) this.reply(peer, encodeError(ERR.ILLEGAL, e.message));
      return;
    }
    if (packet.op === "WRQ") return this.reply(peer, encodeError(ERR.ACCESS, "this server is read-only"));
    if (packet.op !== "RRQ") return this.reply(peer, encodeError(ERR.ILLEGAL, "send a read request to this port"));
    if (packet.mode !== "octet" && packet.mode !== "netascii") return this.reply(peer, encodeError(ERR.ILLEGAL, `mode ${packet.mode} is not served; use octet`));
    if (this.transfers.size >= this.o.maxTransfers) {
      this.o.onTransfer?.({ filename: packet.filename, peer, outcome: "refused", bytes: 0, detail: "busy" });
      return this.reply(peer, encodeError(ERR.NOT_DEFINED, "busy; try again"));
    }
    const t = new Transfer(this.o, packet, peer, () => this.transfers.delete(t));
    this.transfers.add(t);
    void t.run();
  }
}

/** One read transfer, from its own socket (its TID). */
class Transfer {
  private socket: dgram.Socket;
  private timer: NodeJS.Timeout | null = null;
  private ended = false;
  private last: Buffer | null = null;
  private tries = 0;
  private timeoutMs: number;
  /** Resolves with the block number (mod 65536) of each ACK from the peer, or null on a timeout out of retries / an error. */
  private waiter: ((block: number | null) => void) | null = null;
  private bytes = 0;

  constructor(
    private readonly o: Required<Omit<TftpServerOptions, "onTransfer" | "host">> & Pick<TftpServerOptions, "onTransfer" | "host">,
    private readonly req: Request,
    private readonly peer: TftpPeer,
    private readonly onEnd: () => void,
  ) {
    this.timeoutMs = o.timeoutMs;
    this.socket = dgram.createSocket({ type: net.isIPv6(peer.address) ? "udp6" : "udp4" });
    this.socket.on("error", () => this.finish("failed", "socket error"));
    this.socket.on("message", (msg, rinfo) => this.onMessage(msg, { address: rinfo.address, port: rinfo.port }));
  }

  async run(): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.socket.once("error", reject);
        this.socket.bind({ port: 0, address: this.o.host && this.o.host !== "0.0.0.0" && this.o.host !== "::" ? this.o.host : undefined }, () => resolve());
      });
      let answer;
      try {
        answer = await this.o.resolve(this.req.filename, this.peer);
      } catch {
        answer = tftpError(ERR.ACCESS, "cannot serve that file now");
      }
      if (this.ended) return;
      if (answer.kind === "error") {
        this.send(encodeError(answer.code, answer.message));
        return this.finish("refused", answer.message);
      }
      const file = answer.file;
      const { accepted, blksize, timeoutMs } = negotiate(this.req.options, { size: file.size, maxBlksize: this.o.maxBlksize });
      if (timeoutMs) this.timeoutMs = timeoutMs;
      if (Object.keys(accepted).length) {
        // RFC 2347: the client answers an OACK with ACK 0 (or an ERROR declining it).
        if (!(await this.exchange(encodeOack(accepted), 0))) return;
      }
      let block = 1;
      for (let offset = 0; ; offset += blksize, block++) {
        const data = offset < file.size ? await file.read(offset, Math.min(blksize, file.size - offset)) : Buffer.alloc(0);
        if (this.ended) return;
        if (!(await this.exchange(encodeData(block, data), block & 0xffff))) return;
        this.bytes += data.length;
        // A block shorter than blksize (an empty one when the size is a multiple) ends the file.
        if (data.length < blksize) return this.finish("done");
      }
    } catch (e) {
      this.finish("failed", (e as Error).message);
    }
  }

  /** Sends `packet` and waits for ACK `block`, retransmitting on each timeout; false when the transfer ended instead. */
  private async exchange(packet: Buffer, block: number): Promise<boolean> {
    this.last = packet;
    this.tries = 0;
    this.send(packet);
    for (;;) {
      const acked = await new Promise<number | null>((resolve) => {
        this.waiter = resolve;
        this.arm();
      });
      if (acked === null) return false;
      if (acked === block) return true;
      // An older block's ACK (a duplicate): never answered with a resend, or every packet doubles.
    }
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.ended) return;
      if (++this.tries > this.o.retries) return this.finish("failed", `no ACK after ${this.o.retries} retransmissions`);
      if (this.last) this.send(this.last);
      this.arm();
    }, this.timeoutMs);
  }

  private onMessage(msg: Buffer, from: TftpPeer): void {
    if (from.address !== this.peer.address || from.port !== this.peer.port) {
      this.socket.send(encodeError(ERR.UNKNOWN_TID, "unknown transfer ID"), from.port, from.address);
      return;
    }
    let packet;
    try {
      packet = decodePacket(msg);
    } catch {
      return;
    }
    if (packet.op === "ERROR") return this.finish("failed", `the client ended it: ${packet.code} ${packet.message}`);
    if (packet.op !== "ACK") return;
    const w = this.waiter;
    this.waiter = null;
    if (this.timer) clearTimeout(this.timer);
    w?.(packet.block);
  }

  private send(packet: Buffer): void {
    if (!this.ended) this.socket.send(packet, this.peer.port, this.peer.address);
  }

  end(): void {
    this.finish("failed", "server closing");
  }

  private finish(outcome: "done" | "failed" | "refused", detail?: string): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    const w = this.waiter;
    this.waiter = null;
    w?.(null);
    // Closed a moment later so the last packet leaves and a late duplicate ACK is not answered with ICMP.
    setTimeout(() => this.socket.close(), 50).unref();
    this.onEnd();
    this.o.onTransfer?.({ filename: this.req.filename, peer: this.peer, outcome, bytes: this.bytes, ...(detail ? { detail } : {}) });
  }
}
