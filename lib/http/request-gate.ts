// The one gate every request passes before Next.js sees it (scripts/web.ts calls it): a
// state-changing request from a browser must come from Kiln's own origin, the address must
// decode to text, and a body may not exceed its route's limit. Pure functions over the
// method, URL and headers, so they are tested without a server.
import { randomBytes } from "node:crypto";
import { HOST_IMPORT_MAX_BYTES, inspectJsonText, MAX_JSON_BYTES } from "./body";

export type GateHeaders = Record<string, string | string[] | undefined>;
export type GateRequest = { method: string; url: string; headers: GateHeaders };
export type Refusal = { status: 400 | 403 | 413; code: "bad_request" | "forbidden" | "payload_too_large"; message: string };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function header(h: GateHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function pathOf(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

/** The origin (scheme://host[:port]) of each configured base URL, lower-cased as browsers send it. */
export function originsOf(urls: string[]): Set<string> {
  const out = new Set<string>();
  for (const u of urls) {
    try {
      out.add(new URL(u).origin);
    } catch {
      // lib/env.ts validates these; a bad one simply trusts nothing extra.
    }
  }
  return out;
}

/**
 * Requests a browser can never send cross-origin on a person's behalf, so they need no origin:
 * an Authorization header is never attached by a browser to another site's request without a
 * CORS preflight that Kiln does not grant (unlike cookies, and unlike cached Basic credentials,
 * which is why only these two schemes count). Machines on /boot/** authenticate with the run
 * token in the path and never carry a session.
 */
function isExempt(path: string, authorization: string | undefined): boolean {
  if (path === "/boot" || path.startsWith("/boot/")) return true;
  const auth = authorization?.trimStart().toLowerCase() ?? "";
  if (auth.startsWith("bearer ")) return true;
  if (auth.startsWith("kiln-run ") && (path === "/api/uploads" || path.startsWith("/api/uploads/"))) return true;
  return false;
}

/**
 * Cross-origin request forgery. SameSite=Lax cookies stop another site but not another port
 * or a sibling host (a researcher's own machine in the lab), so every state-changing request
 * must show it comes from Kiln's own origin, with or without a body. Browsers say where a
 * request comes from in Sec-Fetch-Site (all current ones) and Origin (on every non-GET
 * request); a request with neither is not from a browser (curl, scripts) and carries no
 * ambient authority a page could abuse. Kiln's origin is its configured base URL, or the host
 * the request was sent to (so localhost:3000 and 127.0.0.1:3000 both work without
 * configuration); the scheme is not compared with the Host, since a TLS proxy in front
 * changes it, and one host:port cannot serve two schemes.
 */
export function checkOrigin(req: GateRequest, trusted: Set<string>): Refusal | null {
  if (SAFE_METHODS.has(req.method.toUpperCase())) return null;
  const path = pathOf(req.url);
  if (isExempt(path, header(req.headers, "authorization"))) return null;
  const origin = header(req.headers, "origin");
  if (origin && trusted.has(origin.toLowerCase())) return null;
  const site = header(req.headers, "sec-fetch-site")?.toLowerCase();
  if (site === "same-origin" || site === "none") return null;
  if (site) return refuseOrigin(origin ?? `a page on a ${site} address`);
  if (!origin) return null;
  if (isSameHost(origin, header(req.headers, "host"))) return null;
  return refuseOrigin(origin);
}

function isSameHost(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    const o = new URL(origin);
    if (o.origin === "null") return false;
    return new URL(`${o.protocol}//${host}`).host === o.host;
  } catch {
    return false;
  }
}

function refuseOrigin(from: string): Refusal {
  return {
    status: 403,
    code: "forbidden",
    message: `Refused: this request to change something came from ${from}, not from Kiln's own pages. Use Kiln itself, or call the API with an access token (Authorization: Bearer …).`,
  };
}

/**
 * The address must decode to text: bytes that are not UTF-8 (an encoded lone surrogate,
 * %ED%A0%80) or a stray % make decodeURIComponent throw, and a NUL cannot be stored; all are
 * refused here for every route, naming the query parameter or the path.
 */
export function checkUrl(url: string): Refusal | null {
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  if (!decodesToText(path)) return refuseText("The address (path)");
  if (q !== -1) {
    for (const pair of url.slice(q + 1).split("&")) {
      const eq = pair.indexOf("=");
      const key = eq === -1 ? pair : pair.slice(0, eq);
      const value = eq === -1 ? "" : pair.slice(eq + 1);
      if (!decodesToText(key)) return refuseText("A query parameter name");
      if (!decodesToText(value)) {
        const name = safeDecode(key.replaceAll("+", " "));
        return refuseText(`The query parameter ${name && name.length <= 64 ? `"${name}"` : "(unnamed)"}`);
      }
    }
  }
  return null;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function decodesToText(s: string): boolean {
  if (!s.includes("%")) return !s.includes("\u0000");
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 /* % */) {
      // A % that starts no escape makes decodeURIComponent throw wherever a route decodes.
      if (!/^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) return false;
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x100) bytes.push(c); // Node hands request targets over as latin1: one char per byte
    else return false;
  }
  if (bytes.includes(0)) return false;
  try {
    UTF8.decode(Uint8Array.from(bytes));
    return true;
  } catch {
    return false;
  }
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

function refuseText(what: string): Refusal {
  return { status: 400, code: "bad_request", message: `${what} contains a NUL byte (%00), a % that starts no escape, or bytes that are not UTF-8 text.` };
}

/**
 * The most body bytes a route takes, or null when the route streams its body elsewhere and
 * checks its own size: tus uploads (/api/uploads), bounded by the image's declared length
 * and the holder's quota. Everything else takes JSON, a form or an agent's short report.
 */
export function bodyLimitFor(url: string): number | null {
  const path = pathOf(url);
  if (path === "/api/uploads" || path.startsWith("/api/uploads/")) return null;
  if (path === "/api/v1/hosts/import") return HOST_IMPORT_MAX_BYTES;
  return MAX_JSON_BYTES;
}

/**
 * A body every route would refuse anyway, refused here for all of them (Auth.js's form
 * endpoints included): JSON nested past the limit, or with a NUL or an unpaired surrogate in a
 * string; a form field (URL-encoded) with a NUL or bytes that are not UTF-8. JSON that does not
 * parse is left to the route, which says what it expected.
 */
export function checkBody(contentType: string | undefined, body: Buffer): Refusal | null {
  const type = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "application/json" || type.endsWith("+json")) {
    // The same inspection a route's readJson does; JSON that does not parse is the route's to refuse.
    const r = inspectJsonText(body.toString("utf8"));
    return r.ok || r.problem === "malformed" ? null : { status: 400, code: "bad_request", message: r.message };
  }
  if (type === "application/x-www-form-urlencoded") {
    for (const pair of body.toString("latin1").split("&")) {
      const eq = pair.indexOf("=");
      const key = eq === -1 ? pair : pair.slice(0, eq);
      if (!decodesToText(key)) return refuseText("A form field's name");
      if (eq !== -1 && !decodesToText(pair.slice(eq + 1))) {
        const name = safeDecode(key.replaceAll("+", " "));
        return refuseText(`The form field ${name && name.length <= 64 ? `"${name}"` : "(unnamed)"}`);
      }
    }
  }
  return null;
}

/** True when the request says a body follows (chunked, or a non-zero length). */
export function hasBody(headers: GateHeaders): boolean {
  if (header(headers, "transfer-encoding")) return true;
  return Number(header(headers, "content-length") ?? 0) > 0;
}

export function tooLargeRefusal(limit: number): Refusal {
  return { status: 413, code: "payload_too_large", message: `The request body is larger than ${Math.ceil(limit / 1024)} KiB.` };
}

/** The one error body (lib/errors.ts) for a refusal. */
export function refusalBody(r: Refusal): string {
  return JSON.stringify({ error: { code: r.code, message: r.message } });
}

export function newNonce(): string {
  return randomBytes(16).toString("base64");
}

/**
 * The Content-Security-Policy for one response. Scripts: only those carrying this response's
 * nonce (Next.js stamps it on its bootstrap and chunk scripts when it finds it in the
 * request's own CSP header, which the web server sets), and what they load ('strict-dynamic').
 * Styles allow inline: CodeMirror and React set style attributes, which nonces cannot cover.
 * Development adds 'unsafe-eval' for React's dev tooling and hot reload's websocket.
 */
export function contentSecurityPolicy(nonce: string, dev = false): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${dev ? " ws: wss:" : ""}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Headers every response carries, pages, API and boot files alike. */
export function securityHeaders(nonce: string, dev = false): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(nonce, dev),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
  };
}
