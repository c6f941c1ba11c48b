import { randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { tusCreate, tusPatch } from "../../test/harness/tus";
import { adminToken, api, apiOk, registerResearcher } from "../support/api";
import { addMember, createPool, createProject, randomMac, uniqueName } from "../support/inventory";
import { PASSWORD, readState } from "../support/state";
import { signIn } from "../support/ui";

/** A datetime-local value `minutes` from now, in the browser's (and this machine's) time zone. */
function localIn(minutes: number): string {
  const d = new Date(Date.now() + minutes * 60_000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

test("[RESERVATIONS] a researcher books from the calendar with an image ready at the start; the hosts are taken and deployed, and the reservation links the group's progress", async ({ page }) => {
  test.setTimeout(240_000);
  const admin = await adminToken(uniqueName("ready-ui"));
  const { email, tokens } = await registerResearcher("ready", 1);
  const token = tokens[0]!;
  const pool = await createPool(admin, { name: uniqueName("ready-pool"), maxLeaseHours: 24 });
  const project = await createProject(admin, { name: uniqueName("ready-proj") });
  await addMember(admin, project.id, email);
  const hosts: { id: string; name: string }[] = [];
  for (let i = 1; i <= 2; i++) hosts.push(await apiOk(admin, "POST", "/api/v1/hosts", { name: uniqueName(`ready-node-${i}`), poolId: pool.id, interfaces: [{ mac: randomMac() }] }, 201));

  const image = await apiOk<{ id: string; name: string }>(token, "POST", "/api/v1/images", { name: uniqueName("lab-image") }, 201);
  const bytes = randomBytes(256 * 1024);
  const created = await tusCreate(`${readState().baseURL}/api/uploads`, token, bytes.length, { imageId: image.id, filename: "disk.img" });
  expect(created.status, created.body).toBe(201);
  expect((await tusPatch(created.location!, token, 0, bytes)).status).toBe(204);
  await expect.poll(async () => (await api(token, "GET", `/api/v1/images/${image.id}/versions`)).body.data?.[0]?.state, { timeout: 30_000 }).toBe("ready");

  await signIn(page, email, PASSWORD);
  await page.goto("/");
  await page.getByRole("link", { name: `Calendar of ${pool.name}` }).click();
  await expect(page.getByRole("heading", { name: `Calendar of ${pool.name}` })).toBeVisible();
  await page.getByRole("button", { name: "Book a slot" }).click();
  const dialog = page.getByRole("dialog", { name: `Book hosts of ${pool.name}` });
  // Starting in about 20 minutes: less than the default 30-minute lead, so the hosts are taken at once.
  await dialog.getByLabel("Start", { exact: true }).fill(localIn(21));
  await dialog.getByLabel("End", { exact: true }).fill(localIn(141));
  await dialog.getByLabel("Number of hosts").fill("2");
  await dialog.getByLabel("Title").fill("ready lab");
  const ready = dialog.getByTestId("ready-at-start");
  await expect(ready.getByLabel(/^Nothing \(hosts as they are\)/)).toBeChecked();
  // An install without its system template: the server's refusal, beside the field it is about.
  await ready.getByLabel(/^Install with templates/).check();
  await dialog.getByRole("button", { name: "Book" }).click();
  await expect(ready.getByRole("alert")).toHaveText("Choose the system (boot) template to install with.");
  await expect(dialog).toBeVisible();
  await ready.getByLabel(/^Deploy an image/).check();
  await expect(ready.getByLabel("Image", { exact: true })).toContainText(image.name);
  await expect(ready.getByLabel("Version", { exact: true })).toContainText("version 1");
  await expect(ready.getByLabel("cloud-init on first boot")).toBeVisible();
  await expect(ready).toContainText("Kiln takes the hosts earlier than the start");
  await dialog.getByRole("button", { name: "Book" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText("Booked: 2 hosts,")).toBeVisible();

  await page.goto("/reservations");
  await page.getByRole("link", { name: "ready lab" }).click();
  await expect(page.getByRole("heading", { name: "ready lab" })).toBeVisible();
  const plan = page.getByTestId("ready-plan");
  // The lead did not fit (nothing measured: 30 min default), so the hosts were taken when booked.
  await expect(plan).toContainText("Hosts taken at");
  await expect(plan).toContainText("when it was booked: the planned 30 min (the default lead: no finished run of this image to measure)");
  // The worker ticks every minute: it takes the hosts and starts the deploy.
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("reservation-state")).toHaveText("preparing", { timeout: 2_000 });
    await expect(page.getByRole("link", { name: "Progress of the deploy" })).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 150_000, intervals: [5_000] });
  const runs = page.getByTestId("ready-runs");
  for (const h of hosts) await expect(runs).toContainText(h.name);

  await page.getByRole("link", { name: "Progress of the deploy" }).click();
  await page.waitForURL(/\/deployments\/groups\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: `Deploying image “${image.name}” version 1` })).toBeVisible();
  const rows = page.getByTestId("group-host");
  await expect(rows).toHaveCount(2);
  for (const h of hosts) {
    const row = rows.filter({ hasText: h.name });
    await expect(row.getByTestId("group-host-state")).toHaveText(/pending|running/);
    await expect(row.getByTestId("group-host-attempts")).toHaveText(/^1 of \d+$/);
  }
});
