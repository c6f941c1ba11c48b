import { describe, expect, it } from "vitest";
import { decodePacket, encodeAck, encodeData, encodeError, encodeOack, encodeRequest, negotiate, TftpPacketError } from "./packet";

const rrq = (...parts: string[]) => Buffer.concat([Buffer.from([0, 1]), ...parts.map((s) => Buffer.from(`${s}\0`, "latin1"))]);

describe("TFTP packets", () => {
  it("decodes a read request with options, names case-insensitive, the first occurrence winning", () => {
    expect(decodePacket(rrq("1234abcd/start4.elf", "OCTET", "BLKSIZE", "1468", "tsize", "0", "blksize", "8"))).toEqual({
      op: "RRQ",
      filename: "1234abcd/start4.elf",
      mode: "octet",
      options: { blksize: "1468", tsize: "0" },
    });
    expect(decodePacket(encodeRequest({ op: "WRQ", filename: "x", mode: "octet", options: {} }))).toMatchObject({ op: "WRQ", filename: "x" });
  });

  it("refuses malformed packets: short, unterminated, an option without value, unknown opcode, too long", () => {
    expect(() => decodePacket(Buffer.from([0, 1, 0]))).toThrow(TftpPacketError);
    expect(() => decodePacket(Buffer.from([0, 1, 0x61, 0x62]))).toThrow(/NUL-terminated/);
    expect(() => decodePacket(rrq("f", "octet", "blksize"))).toThrow(/no value/);
    expect(() => decodePacket(Buffer.from([0, 9, 0, 0]))).toThrow(/unknown opcode 9/);
    expect(() => decodePacket(rrq("a".repeat(2000), "octet"))).toThrow(/too long/);
    expect(() => decodePacket(rrq("f"))).toThrow(/no mode/);
  });

  it("round-trips DATA, ACK, ERROR and OACK; block numbers wrap at 65536", () => {
    const data = encodeData(65537, Buffer.from("hello"));
    expect([...data.subarray(0, 4)]).toEqual([0, 3, 0, 1]);
    expect(decodePacket(data)).toEqual({ op: "DATA", block: 1, data: Buffer.from("hello") });
    expect(decodePacket(encodeData(7, Buffer.alloc(0)))).toEqual({ op: "DATA", block: 7, data: Buffer.alloc(0) });
    expect(decodePacket(encodeAck(65535))).toEqual({ op: "ACK", block: 65535 });
    expect(decodePacket(encodeError(1, "File not found"))).toEqual({ op: "ERROR", code: 1, message: "File not found" });
    // Only printable ASCII leaves the server, at most 200 characters.
    expect(decodePacket(encodeError(2, "bad\u00e9\n" + "x".repeat(300)))).toMatchObject({ message: `bad??${"x".repeat(195)}` });
    expect(decodePacket(encodeOack({ blksize: "1468", tsize: "12345" }))).toEqual({ op: "OACK", options: { blksize: "1468", tsize: "12345" } });
    expect([...encodeOack({ tsize: "5" })]).toEqual([0, 6, ...Buffer.from("tsize\x005\x00")]);
  });

  it("negotiates blksize within [8, max], timeout 1–255 s, tsize as the file's size, and drops what it does not know", () => {
    expect(negotiate({ blksize: "1468", tsize: "0", timeout: "3", windowsize: "4" }, { size: 999, maxBlksize: 65464 })).toEqual({ accepted: { blksize: "1468", tsize: "999", timeout: "3" }, blksize: 1468, timeoutMs: 3000 });
    expect(negotiate({ blksize: "65535" }, { size: 1, maxBlksize: 65464 })).toMatchObject({ accepted: { blksize: "65464" }, blksize: 65464 });
    expect(negotiate({ blksize: "9000" }, { size: 1, maxBlksize: 1468 })).toMatchObject({ blksize: 1468 });
    expect(negotiate({ blksize: "7", timeout: "0" }, { size: 1, maxBlksize: 65464 })).toEqual({ accepted: {}, blksize: 512, timeoutMs: null });
    expect(negotiate({ blksize: "-5", timeout: "256", tsize: "x" }, { size: 1, maxBlksize: 65464 })).toEqual({ accepted: {}, blksize: 512, timeoutMs: null });
    expect(negotiate({}, { size: 1, maxBlksize: 65464 })).toEqual({ accepted: {}, blksize: 512, timeoutMs: null });
  });
});
