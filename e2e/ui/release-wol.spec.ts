import { expect, test } from "@playwright/test";
import { adminToken, apiOk, registerResearcher } from "../support/api";
import { addMember, createAdmin, createProject, randomMac, uniqueName, type Named } from "../support/inventory";
import { PASSWORD } from "../support/state";
import { signIn } from "../support/ui";

const WAIT = "Kiln cannot restart this machine (Wake-on-LAN): restart it, or shut it down (Kiln wakes it again within 5 minutes), so it network-boots and its disk is wiped; it becomes available when the wipe is done.";

test("[LEASES] releasing a Wake-on-LAN machine: the dialog advises a shutdown first, and the confirmation, the host page and the admin's list say what the wipe waits for", async ({ page, browser }) => {
  const admin = await adminToken(uniqueName("wol-release"));
  const { email } = await registerResearcher("researcher", 0);
  const project = await createProject(admin, { name: uniqueName("proj") });
  const { userId } = await addMember(admin, project.id, email);
  // The magic packet goes to the discard port of this machine: nothing answers, as a running machine would not.
  const host = await apiOk<Named>(admin, "POST", "/api/v1/hosts", { name: uniqueName("wol"), interfaces: [{ mac: randomMac(), isPxe: true }], power: { driver: "wol", params: { broadcast: "127.0.0.1", port: 9 } } }, 201);
  await apiOk(admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId, projectId: project.id, durationHours: 2 }, 201);

  await signIn(page, email, PASSWORD);
  const card = page.getByRole("article", { name: `Lease of ${host.name}` });
  await card.getByRole("button", { name: "Release" }).click();
  const confirm = page.getByRole("dialog", { name: "Release this machine?" });
  await expect(confirm.getByTestId("release-advice")).toHaveText(
    "Kiln cannot restart this machine (Wake-on-LAN). Shut it down before you release it, and Kiln wakes it to wipe its disk; if you leave it running, restart it after releasing so it network-boots and its disk is wiped; it goes back to the pool once the wipe is done.",
  );
  await confirm.getByRole("button", { name: "Release" }).click();
  await expect(page.getByText(`Released ${host.name}. ${host.name}: ${WAIT}`)).toBeVisible();

  // Still releasing (not in the pool, not in maintenance), and the API host view says why.
  const view = await apiOk<{ host: { state: string; releaseWait: { message: string } | null } }>(admin, "GET", `/api/v1/hosts/${host.id}`, undefined, 200);
  expect(view.host).toMatchObject({ state: "releasing", releaseWait: { message: WAIT } });

  const { email: adminEmail } = await createAdmin(admin);
  const context = await browser.newContext();
  const adminPage = await context.newPage();
  try {
    await signIn(adminPage, adminEmail, PASSWORD);
    await adminPage.goto(`/hosts/${host.id}`);
    await expect(adminPage.getByTestId("release-wait")).toHaveText(WAIT);
    await adminPage.goto(`/admin/hosts?state=releasing&q=${encodeURIComponent(host.name)}`);
    await expect(adminPage.getByTestId(`host-row-${host.name}`).getByTestId("release-wait")).toHaveText(WAIT);
  } finally {
    await context.close();
  }
});
