// The TFTP server against real clients (busybox's tftp applet, curl's tftp://) and the test
// harness's client that drops a packet on purpose. 127.0.0.1 only, on a port of the kernel's choosing.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tftpGet, tftpRaw } from "@/test/harness/tftp-client";
import { decodePacket, encodeRequest, ERR } from "./packet";
import { bufferFile, tftpError, TftpServer, type TftpAnswer } from "./server";

const run = promisify(execFile);
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

const small = Buffer.from("console=serial0,115200 root=/dev/nfs\n");
const large = randomBytes(5 * 1024 * 1024 + 123);
const exact = randomBytes(512 * 4);
const wrap = randomBytes(8 * 66_000 + 3);
const seen: { filename: string; outcome: string; bytes: number }[] = [];
let server: TftpServer;
let port: number;
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-tftp-"));
  server = new TftpServer({
    host: "127.0.0.1",
    port: 0,
    timeoutMs: 200,
    retries: 3,
    onTransfer: (t) => seen.push({ filename: t.filename, outcome: t.outcome, bytes: t.bytes }),
    resolve: async (filename): Promise<TftpAnswer> => {
      const files: Record<string, Buffer> = { "small.txt": small, "large.bin": large, "exact.bin": exact, "wrap.bin": wrap, "empty": Buffer.alloc(0) };
      const f = files[filename];
      if (filename === "boom") throw new Error("resolver failed");
      return f ? { kind: "file", file: bufferFile(f) } : tftpError(ERR.NOT_FOUND, "File not found");
    },
  });
  port = (await server.listen()).port;
});
afterAll(async () => {
  await server?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe("TFTP server", () => {
  it("serves busybox's tftp client a small file and a 5 MB one with blksize 1468, byte-identical", async () => {
    await run("busybox", ["tftp", "-g", "-r", "small.txt", "-l", path.join(dir, "small.txt"), "127.0.0.1", String(port)]);
    expect(await fs.readFile(path.join(dir, "small.txt"))).toEqual(small);
    await run("busybox", ["tftp", "-g", "-b", "1468", "-r", "large.bin", "-l", path.join(dir, "large.bin"), "127.0.0.1", String(port)], { timeout: 30_000 });
    expect(sha(await fs.readFile(path.join(dir, "large.bin")))).toBe(sha(large));
  });

  it("serves curl (tsize and blksize negotiated); busybox hears file-not-found", async () => {
    const out = path.join(dir, "curl.bin");
    await run("curl", ["-sS", "--tftp-blksize", "4096", "-o", out, `tftp://127.0.0.1:${port}/large.bin`], { timeout: 30_000 });
    expect(sha(await fs.readFile(out))).toBe(sha(large));
    // (curl 7.88 reports an ERROR packet as "getpeername() failed", so busybox says it here.)
    const missing = await run("busybox", ["tftp", "-g", "-r", "nothing-here", "-l", path.join(dir, "missing"), "127.0.0.1", String(port)]).catch((e: { code: number; stderr: string }) => e);
    expect((missing as { code: number }).code).not.toBe(0);
    expect((missing as { stderr: string }).stderr).toMatch(/\(1\) File not found/);
  });

  it("answers the options it agrees to in an OACK: blksize clamped, tsize the size, unknown ones dropped", async () => {
    const r = await tftpGet({ port, filename: "large.bin", options: { blksize: "70000", tsize: "0", windowsize: "8" } });
    expect(r.oack).toEqual({ blksize: "65464", tsize: String(large.length) });
    expect(sha(r.data)).toBe(sha(large));
    const plain = await tftpGet({ port, filename: "small.txt" });
    expect(plain.oack).toBeNull();
    expect(plain.data).toEqual(small);
  });

  it("retransmits a DATA packet the client did not get, and the file still arrives whole", async () => {
    const r = await tftpGet({ port, filename: "large.bin", options: { blksize: "1468" }, dropBlock: 1000 });
    // Exactly one packet more than the blocks (and the empty last block when the size is a multiple): the resend of block 1000.
    expect(r.dataPackets).toBe(Math.ceil(large.length / 1468) + (large.length % 1468 === 0 ? 1 : 0) + 1);
    expect(sha(r.data)).toBe(sha(large));
  });

  it("ends a file whose size is a multiple of blksize with an empty block; serves an empty file", async () => {
    const r = await tftpGet({ port, filename: "exact.bin" });
    expect(r.dataPackets).toBe(5);
    expect(r.data).toEqual(exact);
    expect((await tftpGet({ port, filename: "empty" })).data.length).toBe(0);
  });

  it("rolls block numbers over 65535 (66,001 blocks of 8 bytes)", async () => {
    const r = await tftpGet({ port, filename: "wrap.bin", options: { blksize: "8" }, timeoutMs: 60_000 });
    expect(r.oack).toEqual({ blksize: "8" });
    expect(sha(r.data)).toBe(sha(wrap));
  }, 60_000);

  it("refuses writes, other modes, garbage, and a failing resolver with error packets", async () => {
    const ask = async (packet: Buffer) => decodePacket(await tftpRaw({ port, packet }));
    expect(await ask(encodeRequest({ op: "WRQ", filename: "x", mode: "octet", options: {} }))).toMatchObject({ op: "ERROR", code: ERR.ACCESS });
    expect(await ask(encodeRequest({ op: "RRQ", filename: "small.txt", mode: "mail", options: {} }))).toMatchObject({ op: "ERROR", code: ERR.ILLEGAL });
    expect(await ask(Buffer.from([0, 1, 0x61]))).toMatchObject({ op: "ERROR", code: ERR.ILLEGAL });
    expect(await ask(Buffer.from([0, 4, 0, 1]))).toMatchObject({ op: "ERROR", code: ERR.ILLEGAL });
    expect(await ask(encodeRequest({ op: "RRQ", filename: "boom", mode: "octet", options: {} }))).toMatchObject({ op: "ERROR", code: ERR.ACCESS, message: "cannot serve that file now" });
  });

  it("gives up on a client that stops answering, after its retransmissions", async () => {
    const before = seen.length;
    // A request whose DATA 1 nobody acknowledges: tftpRaw answers the first packet with an ERROR, so use a silent socket.
    const dgram = await import("node:dgram");
    const s = dgram.createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
    s.send(encodeRequest({ op: "RRQ", filename: "large.bin", mode: "octet", options: {} }), port, "127.0.0.1");
    let packets = 0;
    s.on("message", () => packets++);
    await new Promise((r) => setTimeout(r, 200 * 5 + 300));
    s.close();
    expect(packets).toBe(4); // the first send and 3 retransmissions
    expect(seen.slice(before).find((t) => t.filename === "large.bin")).toMatchObject({ outcome: "failed", bytes: 0 });
  });
});
