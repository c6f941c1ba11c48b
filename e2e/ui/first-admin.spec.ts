import { expect, test } from "@playwright/test";
import { ADMIN, readState } from "../support/state";
import { signIn } from "../support/ui";

test("[SETUP] the one-time link printed by npm start creates the first admin, once", async ({ page }) => {
  const { setupLink } = readState();
  await page.goto(setupLink);
  await expect(page.getByRole("heading", { name: "Create the first administrator" })).toBeVisible();

  // A weak password is refused with the reason under the field, and nothing is created.
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password", { exact: true }).fill("short");
  await page.getByLabel("Confirm password").fill("short");
  await page.getByRole("button", { name: "Create administrator" }).click();
  await expect(page.getByText("Use at least 10 characters.")).toBeVisible();

  await page.getByLabel("Name").fill("Root Admin");
  await page.getByLabel("Password", { exact: true }).fill(ADMIN.password);
  await page.getByLabel("Confirm password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Create administrator" }).click();
  await page.waitForURL(/\/signin\?setup=done/);
  await expect(page.getByText("The administrator account is ready")).toBeVisible();

  await signIn(page, ADMIN.email, ADMIN.password);
  await expect(page.getByRole("link", { name: "Admin" })).toBeVisible();

  // The link is single-use.
  await page.goto(setupLink);
  await expect(page.getByText("already has an administrator")).toBeVisible();
  await expect(page.getByRole("button", { name: "Create administrator" })).toHaveCount(0);
});
