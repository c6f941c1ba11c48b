import { expect, test } from "@playwright/test";
import { adminToken, registerResearcher } from "../support/api";
import { addMember, createHost, createPool, createProject, uniqueName } from "../support/inventory";
import { PASSWORD } from "../support/state";
import { signIn } from "../support/ui";

/** A datetime-local value `days` ahead at `hour`:00 in the browser's (and this machine's) time zone. */
function localAt(days: number, hour: number): string {
  const d = new Date();
  d.setDate(d.getDate() + days);
  d.setHours(hour, 0, 0, 0);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

test("[RESERVATIONS] a researcher reserves a host ahead, is told why an overlapping one is refused, and cancels", async ({ page }) => {
  const admin = await adminToken(uniqueName("reservations-ui"));
  const { email } = await registerResearcher("reserver", 0);
  const pool = await createPool(admin, { name: uniqueName("pool") });
  const project = await createProject(admin, { name: uniqueName("proj") });
  const host = await createHost(admin, { name: uniqueName("node"), poolId: pool.id });
  await addMember(admin, project.id, email);

  await signIn(page, email, PASSWORD);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reservations" }).click();
  await expect(page.getByRole("heading", { name: "Reservations" })).toBeVisible();
  await expect(page.getByTestId("no-reservations")).toBeVisible();

  await page.getByLabel("Pool").selectOption(pool.id);
  await page.getByLabel("Title (optional)").fill("course lab");
  await page.getByLabel("Start", { exact: true }).fill(localAt(2, 9));
  await page.getByLabel("End", { exact: true }).fill(localAt(2, 12));
  await page.getByRole("button", { name: "Reserve" }).click();

  // The detail page: the promise is concrete (the host is named) and the history starts.
  await expect(page.getByRole("heading", { name: "course lab" })).toBeVisible();
  await expect(page.getByTestId("reservation-state")).toHaveText("scheduled");
  await expect(page.getByRole("cell", { name: host.name })).toBeVisible();
  await expect(page.getByTestId("reservation-history")).toContainText(`reserved ${host.name} for ${email}`);

  // An overlapping one is refused with what is in the way (the project, not the person).
  await page.goto("/reservations");
  await page.getByLabel("Pool").selectOption(pool.id);
  await page.getByLabel("Start", { exact: true }).fill(localAt(2, 11));
  await page.getByLabel("End", { exact: true }).fill(localAt(2, 13));
  await page.getByRole("button", { name: "Reserve" }).click();
  const refusal = page.getByRole("alert").filter({ hasText: "Nothing was reserved." });
  await expect(refusal).toContainText(`Only 0 of the 1 usable host of pool ${pool.name} are free`);
  await expect(refusal).toContainText(`${host.name} reserved by project ${project.name}`);

  const row = page.getByRole("row").filter({ hasText: "course lab" });
  await row.getByRole("button", { name: "Cancel…" }).click();
  const dialog = page.getByRole("dialog", { name: "Cancel this reservation?" });
  await dialog.getByRole("button", { name: "Cancel reservation" }).click();
  await expect(dialog).toBeHidden();
  await expect(row.getByText("cancelled")).toBeVisible();
  await expect(row.getByRole("button", { name: "Cancel…" })).toHaveCount(0);
});
