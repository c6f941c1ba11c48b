import { describe, expect, it } from "vitest";
import { MAX_JSON_BYTES } from "./body";
import { bodyLimitFor, checkOrigin, checkUrl, contentSecurityPolicy, hasBody, originsOf, securityHeaders, type GateHeaders } from "./request-gate";

const trusted = originsOf(["http://localhost:3000"]);

function gate(method: string, url: string, headers: GateHeaders) {
  return checkOrigin({ method, url, headers: { host: "127.0.0.1:3000", ...headers } }, trusted);
}

describe("origin gate", () => {
  it("lets reads through whatever their origin", () => {
    for (const method of ["GET", "HEAD", "OPTIONS"]) expect(gate(method, "/api/v1/hosts", { origin: "http://evil.example", "sec-fetch-site": "cross-site" })).toBeNull();
  });

  it("refuses a state change from another port of the same host, body or not, with 403 and a plain message", () => {
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      const r = gate(method, "/api/v1/leases/5/release", { origin: "http://127.0.0.1:4000", "sec-fetch-site": "same-site", cookie: "authjs.session-token=x" });
      expect(r?.status).toBe(403);
      expect(r?.message).toMatch(/came from http:\/\/127\.0\.0\.1:4000, not from Kiln's own pages/);
    }
  });

  it("refuses a cross-site form post and a sibling subdomain", () => {
    expect(gate("POST", "/api/session", { origin: "https://evil.example", "sec-fetch-site": "cross-site" })?.status).toBe(403);
    expect(gate("POST", "/api/v1/hosts", { origin: "http://lab.kiln.example", "sec-fetch-site": "same-site" })?.status).toBe(403);
  });

  it("refuses an old browser's request (Origin, no Sec-Fetch-Site) from another origin, and the opaque origin null", () => {
    expect(gate("POST", "/api/v1/hosts", { origin: "http://127.0.0.1:4000" })?.status).toBe(403);
    expect(gate("POST", "/api/v1/hosts", { origin: "null" })?.status).toBe(403);
    expect(gate("POST", "/api/v1/hosts", { origin: "not a url" })?.status).toBe(403);
  });

  it("accepts Kiln's own pages: same-origin fetches, the Host the request came to, the configured base URL", () => {
    expect(gate("POST", "/api/v1/hosts", { origin: "http://127.0.0.1:3000", "sec-fetch-site": "same-origin" })).toBeNull();
    // localhost:3000 (the base URL) while the request came to 127.0.0.1:3000, and the reverse
    expect(gate("POST", "/api/v1/hosts", { origin: "http://localhost:3000", "sec-fetch-site": "cross-site" })).toBeNull();
    expect(gate("POST", "/api/v1/hosts", { origin: "http://127.0.0.1:3000" })).toBeNull();
    expect(checkOrigin({ method: "POST", url: "/x", headers: { host: "kiln.lab.example", origin: "https://kiln.lab.example" } }, trusted)).toBeNull();
    expect(checkOrigin({ method: "POST", url: "/x", headers: { host: "kiln.lab.example:80", origin: "http://kiln.lab.example" } }, trusted)).toBeNull();
    // Typed into the address bar / a bookmark
    expect(gate("POST", "/api/v1/hosts", { "sec-fetch-site": "none" })).toBeNull();
  });

  it("leaves non-browser clients (no Origin, no Sec-Fetch-Site) alone", () => {
    expect(gate("POST", "/api/v1/hosts", {})).toBeNull();
  });

  it("exempts bearer tokens anywhere, machines on /boot/**, and the run token only on /api/uploads", () => {
    const cross = { origin: "http://127.0.0.1:4000", "sec-fetch-site": "same-site" };
    expect(gate("POST", "/api/v1/leases/5/release", { ...cross, authorization: "Bearer kiln_abc" })).toBeNull();
    expect(gate("POST", "/boot/52:54:00:00:00:01/tok/log", cross)).toBeNull();
    expect(gate("PATCH", "/api/uploads/abc", { ...cross, authorization: "Kiln-Run 52:54:00:00:00:01 tok" })).toBeNull();
    expect(gate("POST", "/api/v1/hosts", { ...cross, authorization: "Kiln-Run 52:54:00:00:00:01 tok" })?.status).toBe(403);
    // A browser attaches cached Basic credentials on its own, like a cookie: no exemption.
    expect(gate("POST", "/api/v1/hosts", { ...cross, authorization: "Basic dTpw" })?.status).toBe(403);
    expect(gate("POST", "/bootstrap", cross)?.status).toBe(403);
  });
});

describe("address check", () => {
  it("refuses a NUL, a stray %, or bytes that are not UTF-8 in the path or query, naming the parameter", () => {
    expect(checkUrl("/api/v1/hosts?q=a%00b")?.message).toMatch(/^The query parameter "q" contains a NUL byte/);
    expect(checkUrl("/api/v1/hosts?q=%ED%A0%80")?.status).toBe(400);
    expect(checkUrl("/boot/%ED%A0%80/t/log")?.message).toMatch(/^The address \(path\)/);
    expect(checkUrl("/boot/%zz")?.status).toBe(400);
    expect(checkUrl("/api/v1/hosts?%00=1")?.message).toMatch(/^A query parameter name/);
    expect(checkUrl("/api/v1/hosts?q=%FF")?.status).toBe(400);
  });

  it("accepts ordinary addresses, UTF-8 escapes and pluses", () => {
    expect(checkUrl("/")).toBeNull();
    expect(checkUrl("/api/v1/hosts?q=caf%C3%A9+x&tag=a%3Db&flag")).toBeNull();
    expect(checkUrl("/signin?next=%2Fhosts%3Ftab%3Dlog")).toBeNull();
    expect(checkUrl("/boot/52%3A54%3A00%3A00%3A00%3A01")).toBeNull();
  });
});

describe("body limits", () => {
  it("bounds every route but the tus uploads", () => {
    expect(bodyLimitFor("/api/v1/pools")).toBe(MAX_JSON_BYTES);
    expect(bodyLimitFor("/boot/52:54:00:00:00:01/tok/log?x=1")).toBe(MAX_JSON_BYTES);
    expect(bodyLimitFor("/api/auth/callback/kiln")).toBe(MAX_JSON_BYTES);
    expect(bodyLimitFor("/api/uploads")).toBeNull();
    expect(bodyLimitFor("/api/uploads/abc")).toBeNull();
    expect(bodyLimitFor("/api/uploadsx")).toBe(MAX_JSON_BYTES);
  });

  it("knows when a body follows", () => {
    expect(hasBody({ "transfer-encoding": "chunked" })).toBe(true);
    expect(hasBody({ "content-length": "10" })).toBe(true);
    expect(hasBody({ "content-length": "0" })).toBe(false);
    expect(hasBody({})).toBe(false);
  });
});

describe("security headers", () => {
  it("forbid framing, sniffing and cross-origin referrers, and allow only nonce'd scripts", () => {
    const h = securityHeaders("abc123==");
    expect(h["x-frame-options"]).toBe("DENY");
    expect(h["x-content-type-options"]).toBe("nosniff");
    expect(h["referrer-policy"]).toBe("strict-origin-when-cross-origin");
    const csp = h["content-security-policy"];
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self' 'nonce-abc123==' 'strict-dynamic'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-(inline|eval)/);
    expect(csp).toContain("object-src 'none'");
    expect(contentSecurityPolicy("n", true)).toContain("'unsafe-eval'");
  });
});
