// The gate in front of Next.js, on a real node:http server with a stand-in for Next that
// echoes what it was handed.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_JSON_BYTES } from "./body";
import { gateRequest } from "./node-gate";
import { originsOf } from "./request-gate";

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) =>
    gateRequest(req, res, { trustedOrigins: originsOf(["http://kiln.example"]) }, async (r, s) => {
      const chunks: Buffer[] = [];
      for await (const c of r) chunks.push(c as Buffer);
      s.setHeader("content-type", "application/json");
      s.end(JSON.stringify({ bytes: Buffer.concat(chunks).length, contentLength: r.headers["content-length"] ?? null, te: r.headers["transfer-encoding"] ?? null, csp: r.headers["content-security-policy"] ?? null }));
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string; sentBeforeAnswer: number };

/** A POST whose body is streamed chunked (`total` bytes of `chunk`), or sent whole. */
function post(path: string, opts: { headers?: Record<string, string>; body?: string | Buffer; chunked?: { total: number } } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    let answered = false;
    const req = http.request(`${base}${path}`, { method: "POST", headers: { ...(opts.chunked ? { "transfer-encoding": "chunked" } : {}), ...opts.headers } }, (res) => {
      answered = true;
      const sentBeforeAnswer = sent;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body, sentBeforeAnswer }));
    });
    req.on("error", (e) => {
      if (!answered) reject(e);
    });
    if (!opts.chunked) return void req.end(opts.body);
    const total = opts.chunked.total;
    const pump = () => {
      while (!answered && !req.destroyed && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (!answered && !req.destroyed) req.end();
    };
    pump();
  });
}

describe("node gate: streaming body limit", () => {
  it("answers a 256 MB chunked POST with a readable 413 after about the limit, keeping nothing of it", async () => {
    const rssBefore = process.memoryUsage().rss;
    const res = await post("/api/v1/pools", { headers: { "content-type": "application/json" }, chunked: { total: 256 * 1024 * 1024 } });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error).toEqual({ code: "payload_too_large", message: "The request body is larger than 1024 KiB." });
    expect(res.headers.connection).toBe("close");
    expect(res.sentBeforeAnswer).toBeLessThan(32 * 1024 * 1024);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it("refuses a declared Content-Length past the limit before reading, and hands a body within it on whole, as a plain length", async () => {
    const over = await post("/boot/52:54:00:00:00:01/t/log", { headers: { "content-length": String(MAX_JSON_BYTES + 1) }, body: "x".repeat(10) }).catch((e: Error) => e);
    // The client wrote fewer bytes than it declared; the answer still arrives.
    expect(over).toMatchObject({ status: 413 });
    const small = await post("/api/v1/pools", { headers: { "content-type": "application/json" }, chunked: { total: 128 * 1024 } });
    expect(small.status).toBe(200);
    expect(JSON.parse(small.body)).toMatchObject({ bytes: 128 * 1024, contentLength: String(128 * 1024), te: null });
    const exact = await post("/api/v1/pools", { headers: { "content-type": "text/plain" }, chunked: { total: MAX_JSON_BYTES } });
    expect(JSON.parse(exact.body).bytes).toBe(MAX_JSON_BYTES);
  });

  it("leaves tus uploads alone: their bodies stream through unread", async () => {
    const res = await post("/api/uploads/abc", { headers: { "content-type": "application/offset+octet-stream" }, chunked: { total: 3 * MAX_JSON_BYTES } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ bytes: 3 * MAX_JSON_BYTES, te: "chunked" });
  });
});

describe("node gate: origin, address and body checks", () => {
  it("refuses a cross-origin state change with 403 before reading its body, and lets Kiln's own through", async () => {
    const cross = await post("/api/v1/leases/1/release", { headers: { origin: "http://127.0.0.1:4000", "sec-fetch-site": "same-site" } });
    expect(cross.status).toBe(403);
    expect(JSON.parse(cross.body).error.code).toBe("forbidden");
    expect((await post("/api/v1/leases/1/release", { headers: { origin: "http://kiln.example" } })).status).toBe(200);
    expect((await post("/api/v1/leases/1/release", { headers: { origin: base, "sec-fetch-site": "same-origin" } })).status).toBe(200);
  });

  it("refuses JSON with a NUL or lone surrogate (naming the field) or nested too deep, and form fields with %00", async () => {
    const json = { "content-type": "application/json" };
    const nul = await post("/api/v1/pools", { headers: json, body: '{"pool":{"name":"a\\u0000"}}' });
    expect(nul.status).toBe(400);
    expect(JSON.parse(nul.body).error.message).toMatch(/^pool\.name contains a NUL byte/);
    expect(JSON.parse((await post("/api/v1/pools", { headers: json, body: '{"n":"\\udead"}' })).body).error.message).toMatch(/^n contains an unpaired/);
    expect((await post("/api/v1/pools", { headers: json, body: "[".repeat(50_000) })).status).toBe(400);
    // Not JSON at all: the route says what it expected.
    expect((await post("/api/v1/pools", { headers: json, body: "{nope" })).status).toBe(200);
    const form = await post("/api/auth/callback/kiln", { headers: { "content-type": "application/x-www-form-urlencoded" }, body: "login=a%00b&password=x" });
    expect(form.status).toBe(400);
    expect(JSON.parse(form.body).error.message).toMatch(/^The form field "login" contains a NUL byte/);
    expect((await post("/api/auth/callback/kiln", { headers: { "content-type": "application/x-www-form-urlencoded" }, body: "login=caf%C3%A9&password=x+y" })).status).toBe(200);
  });

  it("puts the security headers on every answer and the nonce'd policy on the request Next reads", async () => {
    const res = await post("/api/v1/pools", { headers: { "content-type": "application/json", "content-security-policy": "script-src 'nonce-forged'" }, body: "{}" });
    expect(res.headers["x-frame-options"]).toBe("DENY");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    const sent = res.headers["content-security-policy"] as string;
    expect(JSON.parse(res.body).csp).toBe(sent);
    expect(sent).not.toContain("forged");
    const refused = await post("/x?q=%00");
    expect(refused.status).toBe(400);
    expect(refused.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  });
});
