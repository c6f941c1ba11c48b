import { expect, test } from "@playwright/test";
import { linkIn, waitForMail } from "../support/mail";
import { ADMIN, PASSWORD, uniqueEmail } from "../support/state";
import { signIn } from "../support/ui";

test("[ADMIN] disabling a user ends their open session and their tokens at once", async ({ browser, request }) => {
  const email = uniqueEmail("victim");
  await request.post("/api/account/register", { data: { email, name: "Vic Tim", password: PASSWORD } });
  const verify = linkIn(await waitForMail(email, "Confirm your email"), "/verify/");
  await request.post("/api/account/verify", { data: { token: verify.split("/").pop() } });

  const userContext = await browser.newContext();
  const userPage = await userContext.newPage();
  await signIn(userPage, email, PASSWORD);
  const created = await userPage.request.post("/api/account/tokens", { data: { name: "script" } });
  expect(created.status()).toBe(201);
  const { token } = (await created.json()) as { token: string };
  const bearer = { authorization: `Bearer ${token}` };
  expect((await request.get("/api/account/tokens", { headers: bearer })).status()).toBe(200);

  const adminContext = await browser.newContext();
  const adminPage = await adminContext.newPage();
  await signIn(adminPage, ADMIN.email, ADMIN.password);
  await adminPage.goto("/admin/users");
  await adminPage.getByLabel("Search users").fill(email);
  await adminPage.getByRole("button", { name: "Search" }).click();
  // The search is a full page load, and the unfiltered list already shows the newest user: wait
  // for the results page, or the click below can land on the page being replaced (its PATCH
  // is then cancelled, or answered after the new page was rendered).
  await expect(adminPage).toHaveURL(/[?&]q=/);
  const row = adminPage.getByTestId(`user-row-${email}`);
  await expect(row).toBeVisible();
  // Wait on the change itself (the PATCH answered), then on the status cell reading exactly
  // "disabled". A substring match passed at once, before the request: the row's buttons read
  // "DisableDelete" as one text since the Delete button sits after Disable.
  const disabling = adminPage.waitForResponse((r) => r.request().method() === "PATCH" && r.url().includes("/api/v1/users/"));
  await row.getByRole("button", { name: `Disable ${email}` }).click();
  expect((await disabling).status()).toBe(200);
  await expect(row.getByText("disabled", { exact: true })).toBeVisible();

  // The user's existing cookie no longer works: pages send them to sign-in, the API says 401.
  await userPage.goto("/profile");
  await expect(userPage).toHaveURL(/\/signin/);
  expect((await userPage.request.get("/api/account/tokens")).status()).toBe(401);
  expect((await request.get("/api/account/tokens", { headers: bearer })).status()).toBe(401);

  // Signing in again says why, once the password is proven right.
  const again = await request.post("/api/session", { data: { login: email, password: PASSWORD } });
  expect(again.status()).toBe(403);
  expect(((await again.json()) as { error: { message: string } }).error.message).toContain("disabled");

  // Enabling restores access.
  const enabling = adminPage.waitForResponse((r) => r.request().method() === "PATCH" && r.url().includes("/api/v1/users/"));
  await row.getByRole("button", { name: `Enable ${email}` }).click();
  expect((await enabling).status()).toBe(200);
  await expect(row.getByText("active", { exact: true })).toBeVisible();
  expect((await request.get("/api/account/tokens", { headers: bearer })).status()).toBe(200);

  // Admin pages and admin API are closed to ordinary users.
  await signIn(userPage, email, PASSWORD);
  expect((await userPage.goto("/admin/users"))!.status()).toBe(404);
  expect((await userPage.request.get("/api/v1/users")).status()).toBe(403);
  expect((await request.get("/api/v1/users")).status()).toBe(401);

  await userContext.close();
  await adminContext.close();
});

test("[ADMIN] the outbox lists mail Kiln sent", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/admin/outbox");
  await expect(page.getByRole("heading", { name: "Outbox" })).toBeVisible();
  await expect(page.getByText("Confirm your email address for Kiln").first()).toBeVisible();
});
