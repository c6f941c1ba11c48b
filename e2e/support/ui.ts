import { expect, type Page } from "@playwright/test";

export async function signIn(page: Page, login: string, password: string, options: { ldap?: boolean } = {}): Promise<void> {
  await page.goto("/signin");
  if (options.ldap) await page.getByRole("tab", { name: "Lab account (LDAP)" }).click();
  await page.getByLabel(options.ldap ? "Username or email" : "Email").fill(login);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("user-menu")).toBeVisible();
}

export async function signOut(page: Page): Promise<void> {
  await page.getByTestId("user-menu").click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/signin/);
}
