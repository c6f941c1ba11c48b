import { expect, test } from "@playwright/test";
import { countMails, linkIn, waitForMail } from "../support/mail";
import { PASSWORD, uniqueEmail } from "../support/state";
import { signIn, signOut } from "../support/ui";

test("[ACCOUNTS] a researcher registers, follows the mailed link, signs in and signs out", async ({ page }) => {
  const email = uniqueEmail("reg");
  await page.goto("/register");

  // Bad input is explained under the field concerned.
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Confirm password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("Enter a valid email address")).toBeVisible();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill("weak");
  await page.getByLabel("Confirm password").fill("weak");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("Use at least 10 characters.")).toBeVisible();

  await page.getByLabel("Name").fill("Rita Researcher");
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Confirm password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("Check your mail")).toBeVisible();

  // Not verified yet: sign-in is refused with what to do.
  await page.goto("/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Confirm your email address first")).toBeVisible();

  const mail = await waitForMail(email, "Confirm your email");
  const link = linkIn(mail, "/verify/");
  await page.goto(link);
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(page.getByText(`${email} is confirmed`)).toBeVisible();

  await signIn(page, email, PASSWORD);
  await expect(page.getByRole("heading", { name: "Welcome, Rita Researcher" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);
  await signOut(page);

  // Signed out for real: the dashboard sends us back to sign-in.
  await page.goto("/");
  await expect(page).toHaveURL(/\/signin\?next=%2F/);

  // The verification link was single-use.
  await page.goto(link);
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(page.getByText("already been used")).toBeVisible();
});

test("[ACCOUNTS] a forgotten password is reset through the mailed link", async ({ page, request }) => {
  const email = uniqueEmail("reset");
  await request.post("/api/account/register", { data: { email, password: PASSWORD } });
  const verify = linkIn(await waitForMail(email, "Confirm your email"), "/verify/");
  expect((await request.post("/api/account/verify", { data: { token: verify.split("/").pop() } })).status()).toBe(200);

  await page.goto("/forgot-password");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send reset link" }).click();
  await expect(page.getByText("a reset link is on its way")).toBeVisible();

  const link = linkIn(await waitForMail(email, "Reset your Kiln password"), "/reset-password/");
  await page.goto(link);
  await page.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
  await page.getByLabel("Confirm new password").fill("a brand new passphrase");
  await page.getByRole("button", { name: "Set new password" }).click();
  await page.waitForURL(/\/signin\?reset=done/);
  await signIn(page, email, "a brand new passphrase");

  // An unknown address gets the same answer and no mail.
  const nobody = uniqueEmail("nobody");
  const res = await request.post("/api/account/password-reset", { data: { email: nobody } });
  expect(res.status()).toBe(202);
  expect(await countMails(nobody)).toBe(0);
});

test("[ACCOUNTS] a profile keeps validated SSH keys and shows a new access token once", async ({ page, request }) => {
  const email = uniqueEmail("keys");
  await request.post("/api/account/register", { data: { email, password: PASSWORD } });
  const verify = linkIn(await waitForMail(email, "Confirm your email"), "/verify/");
  await request.post("/api/account/verify", { data: { token: verify.split("/").pop() } });
  await signIn(page, email, PASSWORD);
  await page.goto("/profile");

  await page.getByLabel("Add a public key").fill("ssh-rsa AAAA-not-a-key me@laptop");
  await page.getByRole("button", { name: "Add key" }).click();
  await expect(page.getByText("not valid base64")).toBeVisible();
  const key =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl e2e@laptop";
  await page.getByLabel("Add a public key").fill(key);
  await page.getByRole("button", { name: "Add key" }).click();
  await expect(page.getByText("e2e@laptop")).toBeVisible();

  await page.getByLabel("Token name").fill("ci scripts");
  await page.getByRole("button", { name: "Create token" }).click();
  const token = (await page.getByTestId("new-token").textContent())!.trim();
  expect(token).toMatch(/^kiln_pat_/);
  const me = await request.get("/api/account/ssh-keys", { headers: { authorization: `Bearer ${token}` } });
  expect(me.status()).toBe(200);
  expect(JSON.stringify(await me.json())).toContain("e2e@laptop");
  await page.reload();
  await expect(page.getByTestId("new-token")).toHaveCount(0);
});
