// A TFTP read client for tests, in Node, that can misbehave on purpose: ignore one DATA packet
// (the server must retransmit it), or stop answering. Real clients (busybox tftp, curl) are used
// beside it; this one exists for what they cannot be told to do.
import dgram from "node:dgram";
import { decodePacket, encodeAck, encodeError, encodeRequest } from "@/lib/tftp/packet";

export type TftpGetResult = { data: Buffer; oack: Record<string, string> | null; error: { code: number; message: string } | null; dataPackets: number; retransmissions: number };

export async function tftpGet(p: {
  port: number;
  host?: string;
  filename: string;
  options?: Record<string, string>;
  /** Ignore the first arrival of this block number (the count of blocks, not mod 65536). */
  dropBlock?: number;
  timeoutMs?: number;
}): Promise<TftpGetResult> {
  const host = p.host ?? "127.0.0.1";
  const socket = dgram.createSocket("udp4");
  const chunks: Buffer[] = [];
  let oack: Record<string, string> | null = null;
  let expected = 1;
  let blksize = Number(p.options?.blksize ?? 512);
  let dataPackets = 0;
  let retransmissions = 0;
  let dropped = false;
  try {
    return await new Promise<TftpGetResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tftp ${p.filename}: no end within ${p.timeoutMs ?? 20_000} ms (block ${expected})`)), p.timeoutMs ?? 20_000);
      const done = (r: Omit<TftpGetResult, "dataPackets" | "retransmissions">) => {
        clearTimeout(timer);
        resolve({ ...r, dataPackets, retransmissions });
      };
      socket.on("message", (msg, rinfo) => {
        const packet = decodePacket(msg);
        const reply = (b: Buffer) => socket.send(b, rinfo.port, rinfo.address);
        if (packet.op === "ERROR") return done({ data: Buffer.concat(chunks), oack, error: { code: packet.code, message: packet.message } });
        if (packet.op === "OACK") {
          oack = packet.options;
          if (oack.blksize) blksize = Number(oack.blksize);
          else blksize = 512;
          return reply(encodeAck(0));
        }
        if (packet.op !== "DATA") return;
        dataPackets++;
        const count = expected;
        if (packet.block !== (count & 0xffff)) {
          // A retransmission of the block before: acknowledged again, as RFC 1350 clients do.
          if (packet.block === ((count - 1) & 0xffff)) retransmissions++;
          return;
        }
        if (p.dropBlock === count && !dropped) {
          dropped = true;
          return;
        }
        chunks.push(Buffer.from(packet.data));
        expected++;
        reply(encodeAck(packet.block));
        if (packet.data.length < blksize) done({ data: Buffer.concat(chunks), oack, error: null });
      });
      socket.send(encodeRequest({ op: "RRQ", filename: p.filename, mode: "octet", options: p.options ?? {} }), p.port, host);
    });
  } finally {
    socket.close();
  }
}

/** Sends one raw packet to the server's port and returns the first answer (an ERROR, usually). */
export async function tftpRaw(p: { port: number; packet: Buffer; host?: string }): Promise<Buffer> {
  const socket = dgram.createSocket("udp4");
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no answer")), 5_000);
      socket.on("message", (msg, rinfo) => {
        clearTimeout(timer);
        // End the transfer politely if it was one.
        socket.send(encodeError(0, "test done"), rinfo.port, rinfo.address);
        resolve(msg);
      });
      socket.send(p.packet, p.port, p.host ?? "127.0.0.1");
    });
  } finally {
    setTimeout(() => socket.close(), 20);
  }
}
