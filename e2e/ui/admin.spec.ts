import { expect, test } from "@playwright/test";
import { adminToken, apiOk, registerResearcher } from "../support/api";
import { addMember, createHost, createPool, createProject, uniqueName } from "../support/inventory";
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

test("[ADMIN] deleting a researcher with a past lease keeps the history as 'Deleted user', removes them from the list and frees their address", async ({ browser, request }) => {
  const admin = await adminToken(uniqueName("delete-user"));
  const { email, tokens } = await registerResearcher("leaver", 1);
  const pool = await createPool(admin, { name: uniqueName("pool") });
  const project = await createProject(admin, { name: uniqueName("proj") });
  const host = await createHost(admin, { name: uniqueName("node"), poolId: pool.id });
  const { userId } = await addMember(admin, project.id, email);
  const lease = await apiOk<{ id: string }>(admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId, projectId: project.id, durationHours: 2 }, 201);
  await apiOk(admin, "POST", `/api/v1/leases/${lease.id}/release`, {}, 200);

  const adminContext = await browser.newContext();
  const page = await adminContext.newPage();
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto(`/admin/users?q=${encodeURIComponent(email)}`);
  await page.getByTestId(`delete-user-${email}`).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText(`Delete ${email}?`);
  await expect(dialog).toContainText("Their personal data is removed");
  await expect(dialog).toContainText("VPN devices are revoked");
  await expect(dialog).toContainText("lab directory entry");
  await expect(dialog).toContainText("Past leases and reservations are kept");
  await dialog.getByRole("button", { name: "Delete account" }).click();
  await expect(page.getByTestId(`user-row-${email}`)).toHaveCount(0);

  // Not in the default list; under "deleted", marked as such, without actions.
  const placeholder = `deleted-${userId.replace(/-/g, "")}@deleted.invalid`;
  await page.goto("/admin/users?filter=all&q=deleted.invalid");
  await expect(page.getByTestId(`user-row-${placeholder}`)).toHaveCount(0);
  await page.goto("/admin/users?filter=deleted&q=deleted.invalid");
  const row = page.getByTestId(`user-row-${placeholder}`);
  await expect(row).toContainText("Deleted user");
  await expect(row.getByText("deleted", { exact: true })).toBeVisible();
  await expect(row.getByRole("button")).toHaveCount(0);

  // The lease history still names the account, shown as "Deleted user".
  const shown = await apiOk<{ userId: string; userEmail: string }>(admin, "GET", `/api/v1/leases/${lease.id}`, undefined, 200);
  expect(shown).toMatchObject({ userId, userEmail: "Deleted user" });
  // Their token and password no longer work; their address registers again as a new account.
  expect((await request.get("/api/account/tokens", { headers: { authorization: `Bearer ${tokens[0]}` } })).status()).toBe(401);
  expect((await request.post("/api/session", { data: { login: email, password: PASSWORD } })).status()).toBe(401);
  expect((await request.post("/api/account/register", { data: { email, name: "Back Again", password: PASSWORD } })).status()).toBe(202);
  const again = await apiOk<{ data: { id: string; name: string; status: string }[] }>(admin, "GET", `/api/v1/users?q=${encodeURIComponent(email)}`, undefined, 200);
  expect(again.data).toEqual([expect.objectContaining({ name: "Back Again", status: "pending_verification" })]);
  expect(again.data[0]!.id).not.toBe(userId);
  await adminContext.close();
});
