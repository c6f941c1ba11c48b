import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { Client, NoSuchObjectError } from "ldapts";
import { linkIn, waitForMail } from "../support/mail";
import { ADMIN, PASSWORD, readState, uniqueEmail } from "../support/state";
import { signIn } from "../support/ui";
import { canBindAs } from "../../test/harness/slapd";

async function directoryClient(): Promise<Client> {
  const { directory } = readState();
  const client = new Client({ url: directory.url, timeout: 5000, connectTimeout: 5000 });
  await client.bind(directory.bindDn, directory.bindPassword);
  return client;
}

const canBind = (dn: string, password: string) => canBindAs(readState().directory.url, dn, password);

async function entryExists(dn: string): Promise<boolean> {
  const client = await directoryClient();
  try {
    return (await client.search(dn, { scope: "base" })).searchEntries.length === 1;
  } catch (e) {
    if (e instanceof NoSuchObjectError) return false;
    throw e;
  } finally {
    await client.unbind();
  }
}

async function registerAndVerify(request: APIRequestContext, email: string): Promise<void> {
  expect((await request.post("/api/account/register", { data: { email, name: "Dee Rectory", password: PASSWORD } })).status()).toBe(202);
  const link = linkIn(await waitForMail(email, "Confirm your email"), "/verify/");
  expect((await request.post("/api/account/verify", { data: { token: link.split("/").pop() } })).ok()).toBe(true);
}

/** The worker writes within a second or two of the change (or at the next minute): reload until the row says so. */
async function expectEntryRow(page: Page, uid: string, text: string | RegExp): Promise<void> {
  await expect(async () => {
    await page.goto("/admin/directory");
    await expect(page.getByTestId(`directory-entry-${uid}`)).toContainText(text, { timeout: 1000 });
  }).toPass({ timeout: 70_000 });
}

test("[DIRECTORY] a new researcher gets a directory entry; a foreign entry is refused until linked; deleting the account removes it", async ({ browser, page, request }) => {
  test.setTimeout(180_000);
  const { directory } = readState();
  const email = uniqueEmail("dirnew");
  const uid = email.split("@")[0]!;
  const dn = `uid=${uid},${directory.peopleDn}`;

  // Someone's entry was in the directory before Kiln, at the dn the next person would get.
  const otherEmail = uniqueEmail("dirold");
  const otherUid = otherEmail.split("@")[0]!;
  const otherDn = `uid=${otherUid},${directory.peopleDn}`;
  const client = await directoryClient();
  await client.add(otherDn, { objectClass: ["inetOrgPerson"], uid: otherUid, cn: "Old Timer", sn: "Timer", description: "made by hand" });
  await client.unbind();

  await registerAndVerify(request, email);
  await registerAndVerify(request, otherEmail);

  await signIn(page, ADMIN.email, ADMIN.password);
  await page.getByRole("link", { name: "Admin" }).click();
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Directory" }).click();
  await expect(page.getByRole("heading", { name: "Directory" })).toBeVisible();
  await expect(page.getByTestId("directory-status")).toContainText("Kiln's bind works: yes");
  await expect(page.getByTestId("directory-status")).toContainText("People OU reachable: yes");

  await expectEntryRow(page, uid, /synced/);
  await expect(page.getByTestId(`directory-entry-${uid}`)).toContainText(email);
  expect(await canBind(dn, PASSWORD)).toBe(true);

  // The foreign entry is refused, untouched, with the reason and a Link action.
  await expectEntryRow(page, otherUid, "already exists in the directory and Kiln did not create it");
  expect(await canBind(otherDn, PASSWORD)).toBe(false);
  const otherRow = page.getByTestId(`directory-entry-${otherUid}`);
  await otherRow.getByRole("button", { name: `Link ${otherDn}` }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText(`Link ${otherDn} to ${otherEmail}?`);
  await dialog.getByRole("button", { name: "Link entry" }).click();
  await expectEntryRow(page, otherUid, /linked[\s\S]*synced/);
  expect(await canBind(otherDn, PASSWORD)).toBe(true);

  // The person sees their lab login on their profile.
  const researcher = await browser.newContext();
  const researcherPage = await researcher.newPage();
  await signIn(researcherPage, email, PASSWORD);
  await researcherPage.goto("/profile");
  await expect(researcherPage.getByTestId("directory-account")).toContainText(`Username ${uid}, with your Kiln password`);
  await researcher.close();

  // Re-sync all is accepted and says how many.
  await page.getByRole("button", { name: "Re-sync all" }).click();
  await expect(page.getByText(/will be written again within a minute/)).toBeVisible();

  // Deleting the account removes its entry.
  await page.goto(`/admin/users?q=${encodeURIComponent(email)}`);
  await page.getByTestId(`delete-user-${email}`).click();
  await expect(page.getByRole("dialog")).toContainText(`Delete ${email}?`);
  await page.getByRole("dialog").getByRole("button", { name: "Delete account" }).click();
  await expect(page.getByTestId(`user-row-${email}`)).toHaveCount(0);
  // The row stays, marked removed and synced: it keeps the uid and uidNumber from reuse.
  await expect(async () => {
    await page.goto("/admin/directory");
    const row = page.getByTestId(`directory-entry-${uid}`);
    await expect(row).toContainText("removed (uid kept from reuse)", { timeout: 1000 });
    await expect(row).toContainText("synced", { timeout: 1000 });
  }).toPass({ timeout: 70_000 });
  expect(await entryExists(dn)).toBe(false);
});
