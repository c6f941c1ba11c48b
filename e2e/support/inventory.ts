// Pools, projects, hosts and admins for the UI specs, set up through the REST API with an
// admin token (made by the CLI, so the first admin's sign-in budget is left alone), so each
// spec shows only the clicks it is about.
import { expect } from "@playwright/test";
import { apiOk, registerResearcher } from "./api";
import { readState } from "./state";

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
}

/** A locally administered unicast MAC (02:…), so it never collides with a real vendor's. */
export function randomMac(): string {
  const bytes = [0x02, ...Array.from({ length: 5 }, () => Math.floor(Math.random() * 256))];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

export type Named = { id: string; name: string };

export function createPool(token: string, data: { name: string; defaultLeaseHours?: number; maxLeaseHours?: number; description?: string }) {
  return apiOk<Named>(token, "POST", "/api/v1/pools", data, 201);
}

export function createProject(token: string, data: { name: string; maxHosts?: number | null }) {
  return apiOk<Named>(token, "POST", "/api/v1/projects", data, 201);
}

export function addMember(token: string, projectId: string, email: string, role: "member" | "leader" = "member") {
  return apiOk<{ userId: string }>(token, "POST", `/api/v1/projects/${projectId}/members`, { email, role }, 201);
}

export function createHost(token: string, data: { name: string; poolId?: string | null; cpuCores?: number; memoryMb?: number; tags?: string[] }) {
  return apiOk<Named>(token, "POST", "/api/v1/hosts", { ...data, interfaces: [{ mac: randomMac(), isPxe: true }] }, 201);
}

/**
 * A machine network-boots for the first time: Kiln records it as a new host and, with
 * commissioning on discovery (the default, docs/commissioning.md), answers it with its
 * commissioning run; nothing here plays the ramdisk, so that run just waits.
 */
export async function discoverHost(token: string, hostname: string): Promise<Named & { mac: string }> {
  const mac = randomMac();
  const res = await fetch(`${readState().baseURL}/boot/${mac.replace(/:/g, "-")}?hostname=${hostname}`);
  expect(res.status).toBe(200);
  let found: Named[] = [];
  await expect
    .poll(async () => (found = (await apiOk<{ data: Named[] }>(token, "GET", `/api/v1/hosts?state=new&q=${mac}`, undefined, 200)).data).length, { timeout: 10_000 })
    .toBe(1);
  return { ...found[0]!, mac };
}

/** A second administrator with a sign-in budget of its own (sign-ins are rate-limited per account). */
export async function createAdmin(token: string): Promise<{ email: string }> {
  const { email } = await registerResearcher("admin", 0);
  const users = await apiOk<{ data: { id: string; email: string }[] }>(token, "GET", `/api/v1/users?q=${encodeURIComponent(email)}`, undefined, 200);
  await apiOk(token, "PATCH", `/api/v1/users/${users.data[0]!.id}`, { role: "admin" }, 200);
  return { email };
}
