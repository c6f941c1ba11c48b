import { expect, test } from "@playwright/test";
import { readState } from "../support/state";
import { signIn, signOut } from "../support/ui";

test("[LDAP] a lab account signs in through the directory; its admin group grants the admin role", async ({ page }) => {
  const { ldap } = readState();

  await page.goto("/signin");
  await page.getByRole("tab", { name: "Lab account (LDAP)" }).click();
  await page.getByLabel("Username or email").fill(ldap.user.uid);
  await page.getByLabel("Password").fill("not the directory password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("The username or password is incorrect.")).toBeVisible();

  // First sign-in creates the local profile; a plain member is not an admin.
  await signIn(page, ldap.user.uid, ldap.user.password, { ldap: true });
  await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);
  await page.goto("/profile");
  await expect(page.getByText(`lab account (${ldap.user.uid})`)).toBeVisible();
  await expect(page.getByText("managed by the lab's directory")).toBeVisible();
  await signOut(page);

  // A member of the admin group, signing in by mail instead of uid.
  await signIn(page, ldap.admin.mail, ldap.admin.password, { ldap: true });
  await expect(page.getByRole("link", { name: "Admin" })).toBeVisible();
});
