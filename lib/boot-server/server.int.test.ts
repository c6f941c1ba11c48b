// The boot server's router over real HTTP, on a real PostgreSQL: what each machine path
// answers, the clear refusals for everything else, capture uploads forwarded to the portal
// with the machine's address, and the portal's hop to a boot server that is down.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv } from "@/test/harness/env";
import { seedBootLab, type BootLab } from "@/test/harness/boot-answers";
import { stopRenderPool } from "@/lib/templates/render-pool";
import { BootAnswers } from "./answers";
import { clientIpOf, forwardRequest, isMachinePath } from "./proxy";
import { createBootHandler } from "./server";

const t = await useTestDb();
let lab: BootLab;
let answers: BootAnswers;
let boot: http.Server;
let bootUrl = "";
// The portal, as far as the boot server sees it: a server that receives forwarded uploads.
// (Stands in for the web process; the upload itself is tested in lib/images/uploads*.int.test.ts.)
let portal: http.Server;
const atPortal: { method: string; url: string; ip: string | undefined; body: string }[] = [];

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  lab = await seedBootLab(t.db, { byte: 0x5e, count: 3 });
  answers = new BootAnswers({ db: t.db, databaseUrl: t.url });
  await answers.start();
  portal = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      atPortal.push({ method: req.method!, url: req.url!, ip: req.headers["x-kiln-client-ip"] as string | undefined, body });
      res.writeHead(204, { "tus-resumable": "1.0.0" });
      res.end();
    });
  });
  const portalUrl = await listen(portal);
  boot = http.createServer(createBootHandler({ db: t.db, answers, bootUrl: "http://boot.example:3001", ramdiskDir: "/nonexistent", portalUrl }));
  bootUrl = await listen(boot);
});

afterAll(async () => {
  await answers.stop();
  await new Promise((r) => boot.close(r));
  await new Promise((r) => portal.close(r));
  await stopRenderPool();
});

describe("the boot server's router", () => {
  it("answers the chain script, pointing machines back at the boot URL", async () => {
    const res = await fetch(`${bootUrl}/boot/chain.ipxe`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).toContain("chain --autofree http://boot.example:3001/boot/${net0/mac:hexhyp}");
  });

  it("answers /boot/<mac> for a known host and an unknown MAC alike, and a readable 400 for a bad MAC", async () => {
    // About idle answers: with commissioning on discovery (the default) an unknown MAC's first
    // boot is its commissioning run instead (lib/deployments/commission.int.test.ts).
    setTestEnv({ KILN_COMMISSION_ON_DISCOVERY: "false" });
    const known = await fetch(`${bootUrl}/boot/${lab.macs[0]!.replace(/:/g, "-")}`);
    const unknown = await fetch(`${bootUrl}/boot/52-54-00-5e-ff-ff`);
    expect(known.status).toBe(200);
    expect(await known.text()).toBe(await unknown.text());
    const bad = await fetch(`${bootUrl}/boot/not-a-mac`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/is not a MAC address/);
  });

  it("refuses what machines never send, with a sentence and no stack", async () => {
    const post = await fetch(`${bootUrl}/boot/${lab.macs[0]!}`, { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    const other = await fetch(`${bootUrl}/api/v1/hosts`);
    expect(other.status).toBe(404);
    expect(await other.text()).toMatch(/boot server for machines/);
    const blob = await fetch(`${bootUrl}/images/00000000-0000-4000-8000-000000000000/versions/1/blob`);
    expect(blob.status).toBe(401);
    expect(await blob.text()).toMatch(/People download images from the portal/);
    const blobBadToken = await fetch(`${bootUrl}/images/00000000-0000-4000-8000-000000000000/versions/1/blob?token=${"a".repeat(43)}`);
    expect(blobBadToken.status).toBe(404);
    const ramdisk = await fetch(`${bootUrl}/boot/ramdisk/vmlinuz`);
    expect(ramdisk.status).toBe(503);
    expect(await ramdisk.text()).not.toMatch(/\n\s+at /);
    const report = await fetch(`${bootUrl}/boot/${lab.macs[0]!}/${"b".repeat(43)}/progress`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    // Either the report's shape or the unknown token is refused; never accepted, never a 5xx.
    expect([400, 404]).toContain(report.status);
    const huge = await fetch(`${bootUrl}/boot/${lab.macs[0]!}/${"b".repeat(43)}/log`, { method: "POST", headers: { "content-type": "text/plain" }, body: "x".repeat(2 * 1024 * 1024) });
    expect([404, 413]).toContain(huge.status);
  });

  it("forwards capture uploads to the portal with the machine's address", async () => {
    const res = await fetch(`${bootUrl}/api/uploads/abc`, { method: "PATCH", headers: { "tus-resumable": "1.0.0", "content-type": "application/offset+octet-stream", "upload-offset": "0" }, body: "disk bytes" });
    expect(res.status).toBe(204);
    expect(res.headers.get("tus-resumable")).toBe("1.0.0");
    expect(atPortal.at(-1)).toEqual({ method: "PATCH", url: "/api/uploads/abc", ip: "127.0.0.1", body: "disk bytes" });
  });
});

describe("the hop between Kiln's processes", () => {
  it("names the machine paths the portal forwards", () => {
    expect(isMachinePath("/boot/chain.ipxe")).toBe(true);
    expect(isMachinePath("/boot/52-54-00-00-00-01/tok/agent.json")).toBe(true);
    expect(isMachinePath("/images/x/versions/2/blob?token=abc")).toBe(true);
    expect(isMachinePath("/images/x/versions/2/blob")).toBe(false);
    expect(isMachinePath("/images/x/versions/2/blob?download=1")).toBe(false);
    expect(isMachinePath("/bootstrap")).toBe(false);
    expect(isMachinePath("/api/v1/hosts")).toBe(false);
  });

  it("trusts a forwarded address only from this machine, and X-Forwarded-For only when told", () => {
    const req = (remoteAddress: string, headers: Record<string, string>) => ({ socket: { remoteAddress }, headers }) as unknown as http.IncomingMessage;
    expect(clientIpOf(req("127.0.0.1", { "x-kiln-client-ip": "10.1.2.3" }), false)).toBe("10.1.2.3");
    expect(clientIpOf(req("10.9.9.9", { "x-kiln-client-ip": "10.1.2.3" }), false)).toBe("10.9.9.9");
    expect(clientIpOf(req("10.9.9.9", { "x-forwarded-for": "10.4.4.4, 10.9.9.9" }), false)).toBe("10.9.9.9");
    expect(clientIpOf(req("10.9.9.9", { "x-forwarded-for": "10.4.4.4, 10.9.9.9" }), true)).toBe("10.4.4.4");
  });

  it("answers 502 with a sentence when the boot server is down", async () => {
    const down = http.createServer();
    const downUrl = await listen(down);
    await new Promise((r) => down.close(r));
    const front = http.createServer((req, res) => forwardRequest(req, res, { target: new URL(downUrl), clientIp: "10.0.0.9", unreachable: "Kiln's boot server is not running." }));
    const frontUrl = await listen(front);
    const res = await fetch(`${frontUrl}/boot/chain.ipxe`);
    expect(res.status).toBe(502);
    expect(await res.text()).toBe("Kiln's boot server is not running.\n");
    await new Promise((r) => front.close(r));
  });
});
