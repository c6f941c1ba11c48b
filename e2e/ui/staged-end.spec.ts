// Issue 16 item 6, the staged end of a lease, in the browser: an admin gives a pool a grace
// period in the pool form; the reminder mail's capture link (/?capture=<lease>) opens the
// capture dialog; a lease of that pool ends (a 72-second lease, ended by the real worker's
// minutely expiry job) and its card shows the stage strip with Grace current and the Capture
// button; nothing but a capture may run in grace; releasing it then takes the lease back to
// the pool. The capture run itself on a real machine is lib/leases/staged-end-qemu.int.test.ts.
import { expect, test } from "@playwright/test";
import { adminToken, api, apiOk, registerResearcher } from "../support/api";
import { addMember, createAdmin, createHost, createPool, createProject, uniqueName } from "../support/inventory";
import { PASSWORD } from "../support/state";
import { signIn, signOut } from "../support/ui";

test("[LEASES] an admin sets a pool's grace; a lease of it ends into grace, its card shows the stage strip and offers the capture", async ({ page }) => {
  test.setTimeout(360_000);
  const admin = await adminToken(uniqueName("staged-end"));
  const { email: adminEmail } = await createAdmin(admin);
  const pool = await createPool(admin, { name: uniqueName("grace-pool") });
  const project = await createProject(admin, { name: uniqueName("proj") });
  const host = await createHost(admin, { name: uniqueName("grace-node"), poolId: pool.id });
  const { email, tokens } = await registerResearcher("grace", 1);
  const { userId } = await addMember(admin, project.id, email);

  // The admin sets the grace in the pool form: validated, then shown in the pools table.
  await signIn(page, adminEmail, PASSWORD);
  await page.goto("/admin/pools");
  await page.getByRole("button", { name: `Edit pool ${pool.name}` }).click();
  const form = page.getByRole("dialog", { name: `Edit pool ${pool.name}` });
  await form.getByLabel("Grace after a lease ends (minutes)").fill("-5");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByText("Use 0 for no grace period.")).toBeVisible();
  await form.getByLabel("Grace after a lease ends (minutes)").fill("30");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form).toBeHidden();
  await expect(page.getByTestId(`pool-row-${pool.name}`).getByTestId("pool-grace")).toHaveText("30 min");
  await signOut(page);

  const lease = await apiOk<{ id: string }>(admin, "POST", "/api/v1/leases", { poolId: pool.id, userId, projectId: project.id, durationHours: 0.02 }, 201);

  // The reminder mail's link: the capture dialog opens at once (after sign-in), nothing started.
  await signIn(page, email, PASSWORD);
  await page.goto(`/?capture=${lease.id}`);
  const dialog = page.getByRole("dialog", { name: "Capture disk to image" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Machine")).toContainText(host.name);
  await expect(dialog.getByLabel("Into image")).toContainText("A new image…");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();

  // The worker's expiry job ends the lease into its grace: the strip shows it, with the Capture button.
  const card = page.getByRole("article", { name: `Lease of ${host.name}`, exact: true });
  const strip = card.getByTestId("stage-strip");
  await expect(strip).toHaveAttribute("data-stage", "grace", { timeout: 180_000 });
  await expect(strip.getByTestId("stage-grace")).toHaveAttribute("aria-current", "step");
  await expect(strip.getByTestId("stage-grace")).toContainText("Grace until");
  await expect(strip.getByTestId("stage-releasing")).toContainText("Power off/wipe");
  await expect(strip.getByTestId("stage-returned")).toContainText("Back in pool");
  await strip.getByRole("button", { name: "Capture disk to image…" }).click();
  await expect(dialog).toContainText("The lease has ended; until");
  await dialog.getByRole("button", { name: "Cancel" }).click();

  // In grace nothing but a capture may run.
  const refused = await api<{ error: { message: string } }>(tokens[0]!, "POST", `/api/v1/hosts/${host.id}/deployments`, { action: "wipe_disk" });
  expect(refused.status).toBe(409);
  expect(refused.body.error.message).toMatch(/grace period until .*: you can capture the disk into an image or release the machines now/);

  // Released now: no wipe for a host without remote power, so it is back in the pool at once
  // and the lease is returned.
  await card.getByRole("button", { name: "Release" }).click();
  await page.getByRole("dialog", { name: "Release this machine?" }).getByRole("button", { name: "Release" }).click();
  await expect(card).toBeHidden();
  // A lease still capturing or being wiped would keep a card with its strip ("Lease ending: …").
  const ending = page.getByRole("article", { name: `Lease ending: ${host.name}` });
  await expect
    .poll(async () => (await apiOk<{ end: { stage: string; stages: { stage: string }[] } }>(tokens[0]!, "GET", `/api/v1/leases/${lease.id}`, undefined, 200)).end.stage, { timeout: 150_000, intervals: [5_000] })
    .toBe("returned");
  const ended = await apiOk<{ end: { stages: { stage: string }[] } }>(tokens[0]!, "GET", `/api/v1/leases/${lease.id}`, undefined, 200);
  expect(ended.end.stages.map((s) => s.stage)).toEqual(["grace", "releasing", "returned"]);
  await expect(ending).toBeHidden({ timeout: 15_000 });
  await page.getByText(/^Past leases/).click();
  await expect(page.getByRole("cell", { name: host.name })).toBeVisible();
});
