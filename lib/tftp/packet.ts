// TFTP packets (RFC 1350) with option negotiation (RFC 2347 OACK; RFC 2348 blksize, RFC 2349
// timeout and tsize). Pure: bytes in, objects out, and back. Only what a read-only server needs
// is encoded (DATA, ERROR, OACK); every kind is decoded, so anything a client sends is named.

export const OP = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

/** RFC 1350 error codes (8: RFC 2347's option refusal). */
export const ERR = { NOT_DEFINED: 0, NOT_FOUND: 1, ACCESS: 2, DISK_FULL: 3, ILLEGAL: 4, UNKNOWN_TID: 5, EXISTS: 6, NO_USER: 7, OPTION: 8 } as const;

export const DEFAULT_BLKSIZE = 512;
export const MIN_BLKSIZE = 8;
export const MAX_BLKSIZE = 65464;
/** A request names a file, a mode and options: anything longer is not a real client's. */
export const MAX_REQUEST_BYTES = 1024;

export type Request = { op: "RRQ" | "WRQ"; filename: string; mode: string; options: Record<string, string> };
export type Packet =
  | Request
  | { op: "DATA"; block: number; data: Buffer }
  | { op: "ACK"; block: number }
  | { op: "ERROR"; code: number; message: string }
  | { op: "OACK"; options: Record<string, string> };

export class TftpPacketError extends Error {}

/** NUL-terminated strings from `start` to the end of the packet; each must be terminated. */
function strings(buf: Buffer, start: number): string[] {
  const out: string[] = [];
  let at = start;
  while (at < buf.length) {
    const end = buf.indexOf(0, at);
    if (end < 0) throw new TftpPacketError("a string is not NUL-terminated");
    // netascii/octet names are ASCII; latin1 keeps every byte visible to the checks after this.
    out.push(buf.toString("latin1", at, end));
    at = end + 1;
  }
  return out;
}

function optionsOf(list: string[]): Record<string, string> {
  if (list.length % 2) throw new TftpPacketError("an option has no value");
  const options: Record<string, string> = {};
  // Option names are case-insensitive (RFC 2347); the first occurrence wins.
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!.toLowerCase();
    if (!(name in options)) options[name] = list[i + 1]!;
  }
  return options;
}

export function decodePacket(buf: Buffer): Packet {
  if (buf.length < 4) throw new TftpPacketError(`a packet of ${buf.length} bytes is too short`);
  const op = buf.readUInt16BE(0);
  switch (op) {
    case OP.RRQ:
    case OP.WRQ: {
      if (buf.length > MAX_REQUEST_BYTES) throw new TftpPacketError("the request is too long");
      const [filename, mode, ...rest] = strings(buf, 2);
      if (filename === undefined || mode === undefined) throw new TftpPacketError("the request has no file name or no mode");
      return { op: op === OP.RRQ ? "RRQ" : "WRQ", filename, mode: mode.toLowerCase(), options: optionsOf(rest) };
    }
    case OP.DATA:
      return { op: "DATA", block: buf.readUInt16BE(2), data: buf.subarray(4) };
    case OP.ACK:
      return { op: "ACK", block: buf.readUInt16BE(2) };
    case OP.ERROR: {
      const [message = ""] = buf.length > 4 ? strings(buf, 4) : [];
      return { op: "ERROR", code: buf.readUInt16BE(2), message };
    }
    case OP.OACK:
      return { op: "OACK", options: optionsOf(strings(buf, 2)) };
    default:
      throw new TftpPacketError(`unknown opcode ${op}`);
  }
}

export function encodeData(block: number, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(OP.DATA, 0);
  head.writeUInt16BE(block & 0xffff, 2);
  return Buffer.concat([head, data]);
}

export function encodeAck(block: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(OP.ACK, 0);
  b.writeUInt16BE(block & 0xffff, 2);
  return b;
}

export function encodeError(code: number, message: string): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(OP.ERROR, 0);
  head.writeUInt16BE(code, 2);
  // Printable ASCII only, short: it is read on a serial console at best.
  const text = message.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
  return Buffer.concat([head, Buffer.from(text, "latin1"), Buffer.from([0])]);
}

function encodeStrings(op: number, list: string[]): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(op, 0);
  return Buffer.concat([head, ...list.map((s) => Buffer.concat([Buffer.from(s, "latin1"), Buffer.from([0])]))]);
}

export function encodeOack(options: Record<string, string>): Buffer {
  return encodeStrings(OP.OACK, Object.entries(options).flat());
}

export function encodeRequest(r: Request): Buffer {
  return encodeStrings(r.op === "RRQ" ? OP.RRQ : OP.WRQ, [r.filename, r.mode, ...Object.entries(r.options).flat()]);
}

/**
 * What the server agrees to of a read request's options: blksize clamped to [8, maxBlksize],
 * timeout 1–255 s (else ignored), tsize answered with the file's size. Unknown options are left
 * out of the OACK, as RFC 2347 says; an empty result means no OACK (plain RFC 1350 transfer).
 */
export function negotiate(options: Record<string, string>, p: { size: number; maxBlksize: number }): { accepted: Record<string, string>; blksize: number; timeoutMs: number | null } {
  const accepted: Record<string, string> = {};
  let blksize = DEFAULT_BLKSIZE;
  let timeoutMs: number | null = null;
  if (options.blksize !== undefined && /^\d{1,6}$/.test(options.blksize)) {
    const asked = Number(options.blksize);
    if (asked >= MIN_BLKSIZE) {
      blksize = Math.min(asked, p.maxBlksize, MAX_BLKSIZE);
      accepted.blksize = String(blksize);
    }
  }
  if (options.timeout !== undefined && /^\d{1,3}$/.test(options.timeout)) {
    const s = Number(options.timeout);
    if (s >= 1 && s <= 255) {
      timeoutMs = s * 1000;
      accepted.timeout = String(s);
    }
  }
  if (options.tsize !== undefined && /^\d{1,20}$/.test(options.tsize)) accepted.tsize = String(p.size);
  return { accepted, blksize, timeoutMs };
}
