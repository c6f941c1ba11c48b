// Issue 18 part 2 in the browser: a lease's holder asks for an extra disk on the host page; the
// worker of the e2e Kiln makes and exports it (qemu-nbd on 127.0.0.1) and the card turns it
// ready; a request over the per-host limit is refused with the API's sentence; Delete… wipes it.
// The disk inside a machine is covered by lib/extra-disks/extra-disks-qemu.int.test.ts.
import { expect, test } from "@playwright/test";
import { adminToken, apiOk, registerResearcher } from "../support/api";
import { addMember, createHost, createPool, createProject, uniqueName } from "../support/inventory";
import { PASSWORD } from "../support/state";
import { signIn } from "../support/ui";

test("[EXTRA-DISKS] a holder adds an extra disk on the host page, sees it ready, is refused over the limit, and deletes it", async ({ page }) => {
  const admin = await adminToken(uniqueName("extra-disks"));
  const { email, tokens } = await registerResearcher("disks", 1);
  const pool = await createPool(admin, { name: uniqueName("pool") });
  const project = await createProject(admin, { name: uniqueName("proj") });
  const host = await createHost(admin, { name: uniqueName("disk-node"), poolId: pool.id });
  const { userId } = await addMember(admin, project.id, email);
  const lease = await apiOk<{ id: string }>(admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId, projectId: project.id, durationHours: 2 }, 201);

  await signIn(page, email, PASSWORD);
  await page.goto(`/hosts/${host.id}`);
  const panel = page.getByTestId("extra-disks-panel");
  await expect(panel.getByText("No extra disks.")).toBeVisible();
  await panel.getByLabel("Disks").fill("1");
  await panel.getByLabel("Size of each (GB)").fill("0.05");
  await panel.getByRole("button", { name: "Add disks" }).click();
  await expect(page.getByText("Asked for 1 disk of 0.05 GB")).toBeVisible();
  const list = panel.getByTestId("extra-disks");
  await expect(list.getByText("disk1")).toBeVisible();
  // The worker makes the file and starts its export; the card refreshes itself meanwhile.
  await expect(list.getByText("ready", { exact: true })).toBeVisible({ timeout: 30_000 });
  const listed = await apiOk<{ data: { name: string; state: string; exported: boolean; sizeBytes: number }[] }>(tokens[0]!, "GET", `/api/v1/leases/${lease.id}/disks`, undefined, 200);
  expect(listed.data).toEqual([expect.objectContaining({ name: "disk1", state: "ready", exported: true, sizeBytes: 50331648 })]);

  // Over the per-host limit (4 by default): the API's sentence, nothing added.
  await panel.getByLabel("Disks").fill("4");
  await panel.getByRole("button", { name: "Add disks" }).click();
  await expect(panel.getByRole("alert")).toHaveText("A host may have at most 4 extra disks; this one has 1 and you asked for 4 more. Delete one first, or ask for fewer.");

  await panel.getByRole("button", { name: "Delete…" }).click();
  await page.getByRole("button", { name: "Delete disk1" }).click();
  await expect(panel.getByText("No extra disks.")).toBeVisible({ timeout: 30_000 });
  const history = await apiOk<{ data: { name: string; state: string }[] }>(tokens[0]!, "GET", `/api/v1/leases/${lease.id}/disks?history=true`, undefined, 200);
  await expect.poll(async () => (await apiOk<{ data: { state: string }[] }>(tokens[0]!, "GET", `/api/v1/leases/${lease.id}/disks?history=true`, undefined, 200)).data.map((d) => d.state), { timeout: 30_000 }).toEqual(["wiped"]);
  expect(history.data.map((d) => d.name)).toEqual(["disk1"]);
});
