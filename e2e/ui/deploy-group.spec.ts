import { randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { tusCreate, tusPatch } from "../../test/harness/tus";
import { adminToken, api, apiOk, registerResearcher } from "../support/api";
import { addMember, createPool, createProject, randomMac, uniqueName } from "../support/inventory";
import { PASSWORD, readState } from "../support/state";
import { signIn } from "../support/ui";

/** The first network boot of a machine and its agent's failure report, over HTTP against the running Kiln. */
async function failOnMachine(mac: string, reason: string): Promise<void> {
  const base = `${readState().baseURL}/boot/${mac.replace(/:/g, "-")}`;
  const script = await (await fetch(base)).text();
  const token = /kiln\.token=([A-Za-z0-9_-]+)/.exec(script)?.[1];
  expect(token, script).toBeTruthy();
  expect((await fetch(`${base}/${token}/agent.json`)).status).toBe(200);
  const res = await fetch(`${base}/${token}/failed`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ reason }) });
  expect(res.status, await res.clone().text()).toBe(200);
}

test("[DEPLOY-GROUP] a holder deploys one image to both hosts of a lease from its card, follows both on the group's page, and a failed host is retried alone", async ({ page }) => {
  const admin = await adminToken(uniqueName("group-ui"));
  const { email, tokens } = await registerResearcher("grouper", 1);
  const token = tokens[0]!;
  const pool = await createPool(admin, { name: uniqueName("pool") });
  const project = await createProject(admin, { name: uniqueName("proj") });
  const { userId } = await addMember(admin, project.id, email);
  const macs = [randomMac(), randomMac()];
  const hosts: { id: string; name: string }[] = [];
  for (const [i, mac] of macs.entries()) hosts.push(await apiOk(admin, "POST", "/api/v1/hosts", { name: uniqueName(`group-node-${i + 1}`), poolId: pool.id, interfaces: [{ mac }] }, 201));
  await apiOk(admin, "POST", "/api/v1/leases", { hostIds: hosts.map((h) => h.id), userId, projectId: project.id, durationHours: 4 }, 201);

  const image = await apiOk<{ id: string; name: string }>(token, "POST", "/api/v1/images", { name: uniqueName("disk") }, 201);
  const bytes = randomBytes(256 * 1024);
  const created = await tusCreate(`${readState().baseURL}/api/uploads`, token, bytes.length, { imageId: image.id, filename: "disk.img" });
  expect(created.status, created.body).toBe(201);
  expect((await tusPatch(created.location!, token, 0, bytes)).status).toBe(204);
  await expect.poll(async () => (await api(token, "GET", `/api/v1/images/${image.id}/versions`)).body.data?.[0]?.state, { timeout: 30_000 }).toBe("ready");

  await signIn(page, email, PASSWORD);
  await page.goto("/");
  const card = page.getByTestId("lease-card").filter({ hasText: hosts[0]!.name });
  await card.getByRole("button", { name: "Deploy to hosts…" }).click();
  const dialog = page.getByRole("dialog", { name: "Deploy to hosts" });
  // Both held hosts ticked; the image and its ready version offered as in Reinstall.
  for (const h of hosts) await expect(dialog.getByLabel(h.name)).toBeChecked();
  await expect(dialog.getByLabel("Deploy an image")).toBeChecked();
  await expect(dialog.getByLabel("Image", { exact: true })).toContainText(image.name);
  await expect(dialog.getByLabel("Version", { exact: true })).toContainText("version 1");
  await dialog.getByRole("button", { name: "Review…" }).click();
  const review = dialog.getByTestId("deploy-group-review");
  await expect(review).toContainText(`${hosts[0]!.name}, ${hosts[1]!.name} are power-cycled now`);
  await expect(review).toContainText(`image “${image.name}”`);
  await expect(review).toContainText("retried on its own, up to 2 runs in all");
  // Nothing started before the confirm.
  expect((await apiOk<{ data: unknown[] }>(token, "GET", `/api/v1/hosts/${hosts[0]!.id}/deployments`, undefined, 200)).data).toHaveLength(0);
  await dialog.getByRole("button", { name: "Erase and deploy to 2 hosts" }).click();

  // The group's page: one row per host, each with its own run.
  await page.waitForURL(/\/deployments\/groups\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: `Deploying image “${image.name}” version 1` })).toBeVisible();
  const rows = page.getByTestId("group-host");
  await expect(rows).toHaveCount(2);
  for (const h of hosts) {
    const row = rows.filter({ hasText: h.name });
    await expect(row.getByTestId("group-host-state")).toHaveText(/pending|running/);
    await expect(row.getByTestId("group-host-attempts")).toHaveText("1 of 2");
    await expect(row.getByRole("link", { name: h.name })).toHaveAttribute("href", `/hosts/${h.id}`);
  }

  // The first machine's agent fails: Kiln's worker retries that host alone; the page shows it live.
  await failOnMachine(macs[0]!, "disk /dev/sdz not found");
  const first = rows.filter({ hasText: hosts[0]!.name });
  await expect(first.getByTestId("group-host-attempts")).toHaveText("2 of 2", { timeout: 30_000 });
  await expect(first.getByTestId("group-host-state")).toHaveText(/pending|running/);
  await expect(rows.filter({ hasText: hosts[1]!.name }).getByTestId("group-host-attempts")).toHaveText("1 of 2");
});
