// Cross-site request forgery and the security headers, in Chromium. The attacker is a page on
// ANOTHER PORT of the same host: to the browser that is the same site, so Kiln's SameSite=Lax
// session cookie goes along with its requests; only the web server's origin gate
// (lib/http/request-gate.ts) stands between it and the signed-in user's account.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { expect, test, type Page, type Response } from "@playwright/test";
import { adminToken, apiOk } from "../support/api";
import { addMember, createAdmin, createHost, createPool, createProject, uniqueName } from "../support/inventory";
import { PASSWORD, readState } from "../support/state";
import { signIn } from "../support/ui";

const WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"] as const;

type Route = { path: string; methods: string[] };

/**
 * Every route handler under app/ that machines do not call (app/boot/** has its own tokens),
 * with the write methods it exports, its dynamic segments filled in: new routes are covered
 * without touching this spec.
 */
function writeRoutes(ids: Record<string, string>): Route[] {
  // Playwright runs from the project root.
  const appDir = path.resolve("app");
  const out: Route[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === "route.ts") {
        const source = fs.readFileSync(full, "utf8");
        const methods = WRITE_METHODS.filter((m) => new RegExp(`export const (${m}\\b|\\{[^}]*\\b${m}\\b[^}]*\\})`).test(source));
        const rel = path.relative(appDir, path.dirname(full)).split(path.sep);
        if (rel[0] === "boot" || methods.length === 0) continue;
        const urlPath = rel
          .map((seg) => {
            if (seg.startsWith("[[...")) return "";
            if (seg.startsWith("[...")) return "signout";
            if (seg.startsWith("[")) return ids[seg.slice(1, -1)] ?? ids.id;
            return seg;
          })
          .filter(Boolean)
          .join("/");
        out.push({ path: `/${urlPath}`, methods });
      }
    }
  };
  walk(appDir);
  return out;
}

/** A tiny site on another port of 127.0.0.1: a blank page, an auto-submitting form, a page that frames Kiln. */
async function startAttacker(kiln: string): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://attacker");
    res.setHeader("content-type", "text/html; charset=utf-8");
    if (url.pathname === "/form") {
      const action = `${kiln}${url.searchParams.get("path")}`;
      res.end(`<!doctype html><form method="post" action="${action}" enctype="text/plain"><input name='{"a":"' value='"}'></form><script>document.forms[0].submit()</script>`);
    } else if (url.pathname === "/frame") {
      res.end(`<!doctype html><h1>attacker</h1><iframe id="kiln" src="${kiln}/signin" width="600" height="400"></iframe><iframe id="own" src="/blank"></iframe>`);
    } else res.end("<!doctype html><title>attacker</title><p>nothing to see</p>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Status of each response the page received, by "METHOD url". */
function recordResponses(page: Page): Map<string, number> {
  const seen = new Map<string, number>();
  page.on("response", (r: Response) => seen.set(`${r.request().method()} ${r.url()}`, r.status()));
  return seen;
}

test.describe("[SECURITY] requests from another origin", () => {
  let attacker: Awaited<ReturnType<typeof startAttacker>>;
  const { baseURL } = readState();

  test.beforeAll(async () => {
    attacker = await startAttacker(baseURL);
  });
  test.afterAll(async () => {
    await attacker.close();
  });

  test("a page on another port of the same host cannot change anything with the signed-in admin's cookie; Kiln's own pages can", async ({ page }) => {
    const token = await adminToken(uniqueName("csrf"));
    const { email } = await createAdmin(token);
    const pool = await createPool(token, { name: uniqueName("pool") });
    const project = await createProject(token, { name: uniqueName("proj") });
    const { userId } = await addMember(token, project.id, email);
    const host = await createHost(token, { name: uniqueName("node"), poolId: pool.id });
    const lease = await apiOk<{ id: string }>(token, "POST", "/api/v1/leases", { hostIds: [host.id], userId, projectId: project.id, durationHours: 2 }, 201);
    await signIn(page, email, PASSWORD);

    // Every write route, by the real browser: only POST can leave a cross-origin page without
    // a CORS preflight (which Kiln never grants), so that is what an attacker sends, as a
    // "simple" request whose body is not declared JSON.
    const routes = writeRoutes({ id: lease.id, userId, version: "1" });
    const posts = routes.filter((r) => r.methods.includes("POST")).map((r) => r.path);
    expect(posts).toEqual(expect.arrayContaining(["/api/v1/leases/" + lease.id + "/release", `/api/v1/hosts/${lease.id}/reinstall`, `/api/v1/deployments/${lease.id}/cancel`, `/api/v1/deployments/${lease.id}/retry`, `/api/v1/hosts/${lease.id}/power/test`, "/api/session", "/api/account/tokens", "/api/auth/signout"]));
    // The real targets: this lease, and this host.
    posts.push(`/api/v1/hosts/${host.id}/reinstall`, `/api/v1/hosts/${host.id}/power/test`, `/api/v1/hosts/${host.id}/accept`);

    const seen = recordResponses(page);
    await page.goto(`${attacker.origin}/`);
    const bodies = ["", '{"hours":1}', "name=x"];
    await page.evaluate(
      async ({ kiln, paths, bodies }) => {
        for (const p of paths) {
          for (const body of bodies) {
            await fetch(`${kiln}${p}`, { method: "POST", mode: "no-cors", credentials: "include", body: body || undefined, headers: body.startsWith("{") ? { "content-type": "text/plain" } : body ? { "content-type": "application/x-www-form-urlencoded" } : {} }).catch(() => undefined);
          }
        }
      },
      { kiln: baseURL, paths: posts, bodies },
    );
    for (const p of posts) expect(seen.get(`POST ${baseURL}${p}`), `POST ${p}`).toBe(403);

    // A plain HTML form post, the oldest way: refused too, and the refusal says why.
    const formAnswer = page.waitForResponse((r) => r.url() === `${baseURL}/api/v1/leases/${lease.id}/release`);
    await page.goto(`${attacker.origin}/form?path=${encodeURIComponent(`/api/v1/leases/${lease.id}/release`)}`);
    const refused = await formAnswer;
    expect(refused.status()).toBe(403);
    expect(await refused.text()).toContain("not from Kiln's own pages");

    // PUT, PATCH and DELETE need a preflight the browser does not get past...
    await page.goto(`${attacker.origin}/`);
    const blocked = await page.evaluate(async (url) => {
      try {
        await fetch(url, { method: "DELETE", credentials: "include" });
        return "sent";
      } catch {
        return "blocked";
      }
    }, `${baseURL}/api/v1/hosts/${host.id}`);
    expect(blocked).toBe("blocked");
    // ...and the gate would refuse them anyway: every write method of every route, with the
    // headers Chromium sends from that page and the session cookie.
    // (page.request sends the page's cookies.)
    for (const r of routes) {
      for (const method of r.methods) {
        const res = await page.request.fetch(`${baseURL}${r.path}`, { method, headers: { origin: attacker.origin, "sec-fetch-site": "same-site", "content-type": "application/json" }, data: "{}" });
        expect(res.status(), `${method} ${r.path}`).toBe(403);
      }
    }

    // Nothing changed: the lease is active, the host still there, no token was made for the
    // attacker, and the session was not signed out (signout and DELETE /api/session refused).
    const leaseNow = await apiOk<{ state: string }>(token, "GET", `/api/v1/leases/${lease.id}`, undefined, 200);
    expect(leaseNow.state).toBe("active");
    expect((await apiOk<{ host: { name: string } }>(token, "GET", `/api/v1/hosts/${host.id}`, undefined, 200)).host.name).toBe(host.name);
    await page.goto("/");
    await expect(page.getByTestId("user-menu")).toBeVisible();
    const tokens = await page.evaluate(async () => ((await (await fetch("/api/account/tokens")).json()) as { tokens: unknown[] }).tokens);
    expect(tokens).toEqual([]);

    // The same actions from Kiln's own pages work.
    const own = await page.evaluate(async (id) => (await fetch(`/api/v1/leases/${id}/release`, { method: "POST" })).status, lease.id);
    expect(own).toBe(200);
    expect((await apiOk<{ state: string }>(token, "GET", `/api/v1/leases/${lease.id}`, undefined, 200)).state).toBe("released");
  });
});

test.describe("[SECURITY] headers", () => {
  test("every response carries the CSP (with this response's nonce on Next's scripts), frame and sniffing protection, and a referrer policy", async ({ request }) => {
    for (const p of ["/", "/signin", "/api/health", "/api/v1/hosts", "/boot/chain.ipxe", "/no-such-page"]) {
      const res = await request.get(p, { maxRedirects: 0 });
      const h = res.headers();
      expect(h["content-security-policy"], p).toMatch(/frame-ancestors 'none'/);
      expect(h["content-security-policy"], p).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
      expect(h["x-frame-options"], p).toBe("DENY");
      expect(h["x-content-type-options"], p).toBe("nosniff");
      expect(h["referrer-policy"], p).toBe("strict-origin-when-cross-origin");
    }
    const page = await request.get("/signin");
    const nonce = /'nonce-([^']+)'/.exec(page.headers()["content-security-policy"]!)![1]!;
    const html = await page.text();
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts) expect(s).toContain(`nonce="${nonce}"`);
    // A new nonce every time.
    const again = await request.get("/signin");
    expect(again.headers()["content-security-policy"]).not.toContain(nonce);
  });

  test("the console works under the policy (no CSP violations while it hydrates and runs) and cannot be framed by another origin", async ({ page }) => {
    const violations: string[] = [];
    page.on("console", (m) => {
      if (/Content Security Policy|Refused to (execute|load|apply|connect|frame)/i.test(m.text())) violations.push(m.text());
    });
    const token = await adminToken(uniqueName("csp"));
    const { email } = await createAdmin(token);
    await signIn(page, email, PASSWORD);
    for (const p of ["/", "/hosts", "/images", "/templates", "/profile", "/admin/hosts", "/admin/network-boot"]) {
      await page.goto(p);
      await expect(page.getByTestId("user-menu")).toBeVisible();
    }
    // `next` never leads off Kiln, and no value of it is a 500.
    const hostileNext = ["//evil.example", "/\\evil.example", "/\t/evil.example", "/%0a/evil.example", "/.//evil.example", "javascript:alert(1)", "https://evil.example", "/\r\nSet-Cookie: x=1"];
    for (const n of hostileNext) {
      const res = await page.goto(`/signin?next=${encodeURIComponent(n)}`);
      expect(res?.status(), n).toBeLessThan(500);
      expect(new URL(page.url()).origin, n).toBe(readState().baseURL);
      await expect(page.getByTestId("user-menu"), n).toBeVisible();
    }
    await page.goto(`/signin?next=${encodeURIComponent("/images?x=1")}`);
    await expect(page).toHaveURL(/\/images\?x=1$/);
    // Client-side code runs: the user menu opens (React hydrated under the nonce).
    await page.getByTestId("user-menu").click();
    await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
    expect(violations).toEqual([]);

    const attacker = await startAttacker(readState().baseURL);
    try {
      await page.goto(`${attacker.origin}/frame`);
      await expect(page.getByRole("heading", { name: "attacker" })).toBeVisible();
      // The attacker's own frame loads; Kiln's is refused by the browser.
      const own = await (await page.locator("#own").elementHandle())!.contentFrame();
      await own!.waitForLoadState("load");
      await expect(own!.locator("body")).toContainText("nothing to see");
      const kilnFrame = await (await page.locator("#kiln").elementHandle())!.contentFrame();
      await kilnFrame!.waitForLoadState("load");
      // Chromium shows its own error page in place of a document that refuses to be framed.
      expect(kilnFrame!.url()).not.toBe(`${readState().baseURL}/signin`);
      const framedText = await kilnFrame!.evaluate(() => document.body?.innerText ?? "").catch(() => "");
      expect(framedText).not.toContain("Sign in to Kiln");
    } finally {
      await attacker.close();
    }
  });
});
