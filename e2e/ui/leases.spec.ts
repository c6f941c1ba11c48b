import { expect, test } from "@playwright/test";
import { adminToken, apiOk, registerResearcher } from "../support/api";
import { addMember, createAdmin, createHost, createPool, createProject, discoverHost, uniqueName } from "../support/inventory";
import { PASSWORD } from "../support/state";
import { signIn } from "../support/ui";

test("[LEASES] a researcher gets a machine from a pool, sees it with its time left, and releases it", async ({ page }) => {
  const admin = await adminToken(uniqueName("leases-ui"));
  const { email } = await registerResearcher("researcher", 0);
  const pool = await createPool(admin, { name: uniqueName("pool"), defaultLeaseHours: 4, maxLeaseHours: 48 });
  const project = await createProject(admin, { name: uniqueName("proj") });
  const host = await createHost(admin, { name: uniqueName("node"), poolId: pool.id, cpuCores: 16, memoryMb: 65536 });

  await signIn(page, email, PASSWORD);
  // Outside every project, leasing is closed and the page says what to do.
  await expect(page.getByText("Ask an administrator to add you to a project")).toBeVisible();
  await expect(page.getByRole("button", { name: "Get machines" })).toBeDisabled();

  const { userId } = await addMember(admin, project.id, email);
  await page.reload();
  await page.getByRole("button", { name: "Get machines" }).click();
  const dialog = page.getByRole("dialog", { name: "Get machines" });
  // Keyboard users land on the first field, not on the close button.
  await expect(dialog.getByLabel("Pool")).toBeFocused();
  await dialog.getByLabel("Pool").selectOption(pool.id);
  await expect(dialog.getByLabel("Pool")).toContainText(`${pool.name} — 1 of 1 available`);
  // The duration starts at the pool's default.
  await expect(dialog.getByLabel("For how many hours")).toHaveValue("4");

  // Asking for more than the pool holds is refused under the field, and nothing is leased.
  await dialog.getByLabel("How many machines").fill("2");
  await dialog.getByRole("button", { name: "Get machines" }).click();
  await expect(dialog.getByText(`Pool ${pool.name} has 1 host in all; you asked for 2.`)).toBeVisible();

  await dialog.getByLabel("How many machines").fill("1");
  await dialog.getByRole("button", { name: "Get machines" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText(`Leased ${host.name} until`)).toBeVisible();
  const card = page.getByRole("article", { name: `Lease of ${host.name}` });
  await expect(card).toBeVisible();
  await expect(card.getByText(`pool ${pool.name}`)).toBeVisible();
  await expect(card.getByText(project.name)).toBeVisible();
  // A live countdown: 4 hours less the seconds since the grant.
  await expect(card.getByText(/^3 h 5\d min left$/)).toBeVisible();

  // The pool is now empty: the refusal is shown in the dialog as the API words it.
  await page.getByRole("button", { name: "Get machines" }).click();
  await dialog.getByLabel("Pool").selectOption(pool.id);
  await dialog.getByRole("button", { name: "Get machines" }).click();
  await expect(dialog.getByRole("alert")).toContainText(`No host available in pool ${pool.name} right now. Nothing was leased.`);
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();

  // A lease made elsewhere (an admin's direct allocation) appears without a reload.
  const other = await createHost(admin, { name: uniqueName("spare") });
  await apiOk(admin, "POST", "/api/v1/leases", { hostIds: [other.id], userId, projectId: project.id, durationHours: 2 }, 201);
  await expect(page.getByRole("article", { name: `Lease of ${other.name}` })).toBeVisible({ timeout: 15_000 });

  await card.getByRole("button", { name: "Release" }).click();
  const confirm = page.getByRole("dialog", { name: "Release this machine?" });
  await expect(confirm).toContainText(host.name);
  await confirm.getByRole("button", { name: "Release" }).click();
  await expect(card).toBeHidden();
  await expect(page.getByText(`Released ${host.name}.`)).toBeVisible();
  await page.getByText("Past leases (1)").click();
  await expect(page.getByRole("cell", { name: host.name })).toBeVisible();

  // The host went back to its pool, ready for the next researcher.
  const after = await apiOk<{ host: { state: string } }>(admin, "GET", `/api/v1/hosts/${host.id}`, undefined, 200);
  expect(after.host.state).toBe("available");
});

test("[HOSTS] an admin accepts a discovered host into a pool", async ({ page }) => {
  const token = await adminToken(uniqueName("hosts-ui"));
  const { email } = await createAdmin(token);
  const pool = await createPool(token, { name: uniqueName("rack") });
  const discovered = await discoverHost(token, "lab-pc-17");

  await signIn(page, email, PASSWORD);
  await page.getByRole("link", { name: "Hosts" }).click();
  await page.getByRole("link", { name: /^New hosts \(\d+\)$/ }).click();
  await expect(page).toHaveURL(/state=new/);
  const row = page.getByTestId(`host-row-${discovered.name}`);
  await expect(row).toContainText(discovered.mac);
  await expect(row).toContainText("lab-pc-17");
  await row.getByLabel(`Pool for ${discovered.name}`).selectOption(pool.id);
  await row.getByRole("button", { name: `Accept ${discovered.name}` }).click();
  await expect(row).toBeHidden();

  // Now an available host of the pool, with the acceptance in its timeline.
  await page.goto(`/admin/hosts?pool=${pool.id}`);
  const accepted = page.getByTestId(`host-row-${discovered.name}`);
  await expect(accepted).toContainText("available");
  await expect(accepted).toContainText(pool.name);
  await accepted.getByRole("link", { name: discovered.name }).click();
  await expect(page.getByRole("heading", { name: discovered.name })).toBeVisible();
  await expect(page.getByText("new → available · accepted")).toBeVisible();
  await expect(page.getByText("first network boot from")).toBeVisible();
});
