import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { linkIn, waitForMail } from "../support/mail";
import { PASSWORD, readState, uniqueEmail } from "../support/state";
import { signIn } from "../support/ui";

async function registeredAccount(request: APIRequestContext): Promise<string> {
  const email = uniqueEmail("pw");
  expect((await request.post("/api/account/register", { data: { email, password: PASSWORD } })).status()).toBe(202);
  const verify = linkIn(await waitForMail(email, "Confirm your email"), "/verify/");
  expect((await request.post("/api/account/verify", { data: { token: verify.split("/").pop() } })).status()).toBe(200);
  return email;
}

async function changePassword(page: Page, current: string, next: string, revokeTokens = false): Promise<void> {
  await page.getByLabel("Current password").fill(current);
  await page.getByLabel("New password", { exact: true }).fill(next);
  await page.getByLabel("Confirm new password").fill(next);
  await page.getByLabel("Also revoke my API tokens").setChecked(revokeTokens);
  await page.getByRole("button", { name: "Change password" }).click();
}

test("[ACCOUNTS] changing the password on the profile signs out other browsers and revokes API tokens only when asked", async ({ page, browser, request }) => {
  const email = await registeredAccount(request);
  await signIn(page, email, PASSWORD);
  await page.goto("/profile");
  await page.getByLabel("Token name").fill("ci scripts");
  await page.getByRole("button", { name: "Create token" }).click();
  const token = (await page.getByTestId("new-token").textContent())!.trim();
  const tokenStatus = async () => (await request.get("/api/v1/me", { headers: { authorization: `Bearer ${token}` } })).status();
  expect(await tokenStatus()).toBe(200);

  // A second browser with its own session.
  const laptop = await browser.newContext({ baseURL: readState().baseURL });
  const other = await laptop.newPage();
  await signIn(other, email, PASSWORD);

  // Common passwords and the own email are refused under the field, and nothing changes.
  await changePassword(page, PASSWORD, "Password123!", true);
  await expect(page.getByText("This password is too common or too easy to guess.")).toBeVisible();
  await changePassword(page, PASSWORD, `${email} 2026`, true);
  await expect(page.getByText("This password contains your email address.")).toBeVisible();
  expect(await tokenStatus()).toBe(200);

  // Without the checkbox: the other browser is signed out, the token keeps working.
  await changePassword(page, PASSWORD, "a fine new passphrase");
  await expect(page.getByText("Password changed. 1 other session was signed out.")).toBeVisible();
  await other.goto("/profile");
  await expect(other).toHaveURL(/\/signin\?next=%2Fprofile/);
  expect(await tokenStatus()).toBe(200);

  // With it: the token is revoked and shown as such; this browser stays signed in.
  await changePassword(page, "a fine new passphrase", "yet another passphrase", true);
  await expect(page.getByText("Password changed. No other sessions were open; 1 API token was revoked.")).toBeVisible();
  expect(await tokenStatus()).toBe(401);
  await expect(page.getByText("revoked", { exact: true })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("heading", { name: "Profile" })).toBeVisible();
  await laptop.close();
});
