// The REST API through the real server: the README's shell session runs as written, routing
// answers bad ids and methods properly, and the OpenAPI document and its page are served.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { expect, test } from "@playwright/test";
import { getProcessEnv } from "../../lib/env";
import { adminToken, api, apiOk, registerResearcher } from "../support/api";
import { ADMIN, readState } from "../support/state";

const exec = promisify(execFile);

/** The shell block of the README's REST API section, between its markers. */
async function readmeSession(): Promise<string> {
  const readme = await fs.readFile(path.join(process.cwd(), "README.md"), "utf8");
  const section = readme.match(/<!-- rest-api-session:start[^>]*-->\s*```sh\n([\s\S]*?)```\s*<!-- rest-api-session:end -->/);
  expect(section, "the README's REST API session block").not.toBeNull();
  return section![1]!;
}

test("[API] the README's curl session leases a machine, extends it and releases it", async () => {
  test.setTimeout(90_000);
  const { baseURL, dataDir } = readState();
  const run = randomBytes(3).toString("hex");
  const admin = await adminToken(`readme-${run}`);
  const pool = await apiOk<{ id: string; name: string }>(admin, "POST", "/api/v1/pools", { name: `rack-${run}`, maxLeaseHours: 24 }, 201);
  await apiOk(admin, "POST", "/api/v1/hosts", { name: `readme-${run}`, poolId: pool.id, interfaces: [{ mac: `02:aa:${run.slice(0, 2)}:${run.slice(2, 4)}:${run.slice(4, 6)}:01` }] }, 201);
  const project = await apiOk<{ id: string }>(admin, "POST", "/api/v1/projects", { name: `readme-${run}` }, 201);
  const ada = await registerResearcher("ada", 0);
  await apiOk(admin, "POST", `/api/v1/projects/${project.id}/members`, { email: ada.email }, 201);

  // The block as printed, with this server, this researcher and this pool.
  const script = (await readmeSession())
    .replaceAll("http://localhost:3000", baseURL)
    .replaceAll("ada@lab.example", ada.email)
    .replaceAll("rack-1", pool.name);
  const env: NodeJS.ProcessEnv = { ...getProcessEnv(), KILN_DATA_DIR: dataDir, LOG_LEVEL: "warn" };
  delete env.DATABASE_URL;
  const { stdout } = await exec("bash", ["-euo", "pipefail", "-c", script], { env });
  expect(stdout).toContain(`"email":"${ada.email}"`);

  // What the session did, seen by an administrator.
  const leases = await apiOk<{ data: { id: string; userEmail: string; state: string; startsAt: string; endsAt: string; hosts: { name: string }[] }[] }>(
    admin, "GET", `/api/v1/leases?scope=all&projectId=${project.id}`, undefined, 200,
  );
  expect(leases.data).toHaveLength(1);
  const lease = leases.data[0]!;
  expect(lease).toMatchObject({ userEmail: ada.email, state: "released", hosts: [{ name: `readme-${run}` }] });
  expect(new Date(lease.endsAt).getTime() - new Date(lease.startsAt).getTime()).toBe(6 * 3600_000);
  const events = await apiOk<{ data: { action: string }[] }>(admin, "GET", `/api/v1/audit?targetId=${lease.id}`, undefined, 200);
  expect(events.data.map((e) => e.action).sort()).toEqual(["lease.create", "lease.extend", "lease.release"]);
});

test("[API] through the real router: bad ids are 404, wrong methods 405, big bodies 413, dead tokens 401", async () => {
  const admin = await adminToken("router");
  for (const p of ["/api/v1/hosts/not-a-uuid", "/api/v1/leases/123", "/api/v1/projects/%27%20or%201=1"]) {
    const res = await api(admin, "GET", p);
    expect(res.status, p).toBe(404);
    expect(res.body.error.message, p).toMatch(/does not exist/);
  }
  expect((await api(admin, "PUT", "/api/v1/hosts")).status).toBe(405);
  expect((await api(admin, "GET", "/api/v1/hosts/bulk")).status).toBe(405);

  // A declared Content-Length over 1 MiB is refused before the body is read.
  const big = await fetch(`${readState().baseURL}/api/v1/pools`, {
    method: "POST",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "big", description: "x".repeat(1024 * 1024) }),
  });
  expect(big.status).toBe(413);
  expect(((await big.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");

  // A token can revoke itself; from then on it is refused, like no token at all.
  const me = await apiOk<{ user: { email: string } }>(admin, "GET", "/api/v1/me", undefined, 200);
  const tokens = await apiOk<{ tokens: { id: string; name: string }[] }>(admin, "GET", "/api/account/tokens", undefined, 200);
  const self = tokens.tokens.find((t) => t.name === "router")!;
  await apiOk(admin, "DELETE", `/api/account/tokens/${self.id}`, undefined, 200);
  const dead = await api(admin, "GET", "/api/v1/me");
  expect(dead.status).toBe(401);
  expect(dead.body.error.message).toMatch(/not valid/);
  expect((await api(null, "GET", "/api/v1/me")).status).toBe(401);
  expect(me.user.email).toBe(ADMIN.email);
});

test("[API] the OpenAPI document is served, and /api-docs renders it grouped by tag", async ({ page }) => {
  const res = await api(null, "GET", "/api/v1/openapi.json");
  expect(res.status).toBe(200);
  expect(res.body.openapi).toBe("3.1.0");
  expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(["/api/v1/leases", "/api/v1/hosts/{id}"]));

  await page.goto("/api-docs");
  await expect(page.getByRole("heading", { name: "Kiln API" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Leases", level: 2 })).toBeVisible();
  const create = page.getByTestId("op-POST /api/v1/leases");
  await expect(create).toContainText("Lease hosts");
  await expect(create).toContainText('"durationHours"');
  await expect(create).toContainText("409");
  await expect(page.getByTestId("op-GET /api/v1/hosts")).toContainText("per_page");
  // Every operation shows its answer's body: the host view with its addresses, ssh line and deploy status.
  expect(res.body.paths["/api/v1/hosts/{id}"].get.responses["200"].content["application/json"].schema.properties.host.required).toEqual(expect.arrayContaining(["addresses", "access", "provisioning"]));
  const answer = page.getByTestId("answer-GET /api/v1/hosts/{id}");
  await answer.locator("summary").click();
  await expect(answer).toContainText('"provisioning"');
  await expect(answer).toContainText('"addresses"');
});
