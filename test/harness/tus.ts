// A minimal tus 1.0 client over node:http, exactly as the README's curl recipe speaks it
// (POST with Upload-Length and Upload-Metadata, HEAD for the offset, PATCH from there),
// able to cut the connection part-way through a PATCH body.
import http from "node:http";

export type TusAnswer = { status: number; headers: http.IncomingHttpHeaders; body: string };

export function encodeMetadata(meta: Record<string, string>): string {
  return Object.entries(meta)
    .map(([k, v]) => `${k} ${Buffer.from(v).toString("base64")}`)
    .join(",");
}

function request(method: string, url: string, headers: Record<string, string>, body?: Buffer): Promise<TusAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { "Tus-Resumable": "1.0.0", ...headers, ...(body ? { "Content-Length": String(body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A personal access token, or a whole Authorization value (a deploy agent's `Kiln-Run …`). */
function auth(token: string | null): Record<string, string> {
  return token ? { Authorization: token.startsWith("Kiln-Run ") ? token : `Bearer ${token}` } : {};
}

export async function tusCreate(endpoint: string, token: string | null, length: number, metadata: Record<string, string>, extra: Record<string, string> = {}) {
  const res = await request("POST", endpoint, { ...auth(token), "Upload-Length": String(length), "Upload-Metadata": encodeMetadata(metadata), ...extra });
  const location = res.headers.location ? new URL(res.headers.location, endpoint).toString() : null;
  return { ...res, location };
}

export async function tusHead(uploadUrl: string, token: string | null) {
  const res = await request("HEAD", uploadUrl, auth(token));
  return { ...res, offset: Number(res.headers["upload-offset"] ?? NaN), length: Number(res.headers["upload-length"] ?? NaN) };
}

export async function tusPatch(uploadUrl: string, token: string | null, offset: number, data: Buffer) {
  return request("PATCH", uploadUrl, { ...auth(token), "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" }, data);
}

export async function tusDelete(uploadUrl: string, token: string | null) {
  return request("DELETE", uploadUrl, auth(token));
}

/**
 * A PATCH whose connection is cut after `cutAfter` bytes of the body were sent (the client
 * announces the whole rest in Content-Length, as a real interrupted upload does).
 */
export function tusPatchCut(uploadUrl: string, token: string | null, offset: number, data: Buffer, cutAfter: number): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(uploadUrl, {
      method: "PATCH",
      headers: { "Tus-Resumable": "1.0.0", ...auth(token), "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream", "Content-Length": String(data.length) },
    });
    req.on("error", () => resolve());
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => resolve());
    });
    const piece = 64 * 1024;
    let sent = 0;
    const pump = () => {
      while (sent < cutAfter) {
        const n = Math.min(piece, cutAfter - sent);
        const more = req.write(data.subarray(sent, sent + n));
        sent += n;
        if (!more) return void req.once("drain", pump);
      }
      // Give the bytes time to reach the server, then drop the connection mid-body.
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 30);
    };
    pump();
  });
}

/**
 * Resumes an upload until done: HEAD for the offset, PATCH the rest. A 409 (the offset moved
 * because an interrupted request was still flushing) or 423 (its lock not yet released)
 * means: ask again.
 */
export async function tusResume(uploadUrl: string, token: string | null, data: Buffer, attempts = 20): Promise<TusAnswer> {
  for (let i = 0; ; i++) {
    const head = await tusHead(uploadUrl, token);
    if (head.status !== 200) throw new Error(`HEAD ${uploadUrl}: ${head.status} ${head.body}`);
    if (head.offset === data.length) return { status: 204, headers: head.headers, body: "" };
    const res = await tusPatch(uploadUrl, token, head.offset, data.subarray(head.offset));
    if ((res.status !== 409 && res.status !== 423 && res.status < 500) || i >= attempts) return res;
    await new Promise((r) => setTimeout(r, 100));
  }
}
