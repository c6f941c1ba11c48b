// Issue 14's admin edits and smaller fixes, in Chromium against the e2e Kiln: role changes
// confirmed and toasted, a deep link that survives sign-in, the boot-URL banner (absent here:
// global setup gives machines a 10.0.2.x boot URL; the banner's logic for loopback URLs is
// covered by lib/sites/boot-url-check.test.ts), the favicon, password confirmation, a bulk
// import through the UI, renaming a host and editing its interfaces, the audit table's width.
import { expect, test, type Browser, type BrowserContext } from "@playwright/test";
import { adminToken, apiOk, registerResearcher } from "../support/api";
import { ADMIN } from "../support/state";
import { signIn } from "../support/ui";

let adminState: Awaited<ReturnType<BrowserContext["storageState"]>>;
let token: string;

/** One sign-in for the file: the admin's sign-in budget is shared with every other spec. */
test.beforeAll(async ({ browser }) => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page, ADMIN.email, ADMIN.password);
  adminState = await ctx.storageState();
  await ctx.close();
  token = await adminToken("admin-edits");
});

async function adminPage(browser: Browser) {
  const ctx = await browser.newContext({ storageState: adminState });
  return { ctx, page: await ctx.newPage() };
}

function suffix(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
}

function macs(n: number): [string, string, string] {
  const base = Math.floor(Math.random() * 0xffff);
  return Array.from({ length: Math.max(n, 3) }, (_, i) => {
    const v = (base << 8) + i;
    return `52:54:01:${((v >> 16) & 255).toString(16).padStart(2, "0")}:${((v >> 8) & 255).toString(16).padStart(2, "0")}:${(v & 255).toString(16).padStart(2, "0")}`;
  }) as [string, string, string];
}

test("[ADMIN] a role change waits for a confirmation that says what it grants, then toasts", async ({ browser }) => {
  const { email } = await registerResearcher("role", 0);
  const { ctx, page } = await adminPage(browser);
  await page.goto(`/admin/users?q=${encodeURIComponent(email)}`);
  const row = page.getByTestId(`user-row-${email}`);
  const role = row.getByLabel(`Role of ${email}`);
  await expect(role).toHaveValue("user");

  // Choosing a role only asks; cancelling changes nothing.
  await role.selectOption("admin");
  const dialog = page.getByRole("dialog", { name: `Make ${email} an administrator?` });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("add, change and delete hosts");
  await expect(dialog).toContainText("manage every user");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(role).toHaveValue("user");
  const listed = async () => (await apiOk<{ data: { email: string; role: string }[] }>(token, "GET", `/api/v1/users?q=${encodeURIComponent(email)}`, undefined, 200)).data[0]!.role;
  expect(await listed()).toBe("user");

  await role.selectOption("admin");
  await page.getByRole("button", { name: "Make administrator" }).click();
  await expect(page.getByTestId("toast")).toContainText(`${email} is now an administrator.`);
  await expect(role).toHaveValue("admin");
  expect(await listed()).toBe("admin");

  // And back, with what it removes.
  await role.selectOption("user");
  const back = page.getByRole("dialog", { name: `Make ${email} a regular user?` });
  await expect(back).toContainText("They will lose the admin console");
  await back.getByRole("button", { name: "Make regular user" }).click();
  await expect(page.getByTestId("toast").last()).toContainText(`${email} is now a regular user`);
  expect(await listed()).toBe("user");
  await ctx.close();
});

test("[ADMIN] a deep link into the admin console survives sign-in", async ({ page }) => {
  await page.goto("/admin/audit?action=host.import");
  await expect(page).toHaveURL(/\/signin\?next=%2Fadmin%2Faudit%3Faction%3Dhost\.import$/);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/admin\/audit\?action=host\.import$/);
  await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
  await expect(page.getByLabel("Action")).toHaveValue("host.import");

  // Only paths on Kiln: anything else lands on the home page.
  await page.goto("/signin?next=https%3A%2F%2Fevil.example%2F");
  await expect(page).toHaveURL(/\/$/);
});

test("[ADMIN] no boot-URL warning while machines are told a lab address, and the DHCP snippets are usable", async ({ browser }) => {
  const { ctx, page } = await adminPage(browser);
  await page.goto("/admin/network-boot");
  await expect(page.getByRole("heading", { name: "Network boot" })).toBeVisible();
  await expect(page.getByTestId("boot-url-warning")).toHaveCount(0);
  const snippets = page.getByTestId("dhcp-snippet");
  await expect(snippets).toHaveCount(4);
  for (const s of await snippets.all()) await expect(s).not.toHaveAttribute("aria-disabled", "true");
  await expect(page.getByText(/Not usable yet/)).toHaveCount(0);
  await expect(snippets.first()).toContainText(/http:\/\/10\.0\.2\.\d+(:\d+)?\/boot\/chain\.ipxe/);
  await ctx.close();
});

test("[ADMIN] a loopback boot URL puts a warning on every admin page and greys the DHCP snippets with the reason", async ({ browser }) => {
  // The e2e Kiln's KILN_BOOT_URL is a lab address; the default site's own boot URL overrides
  // it for its machines, so setting that to 127.0.0.1 shows what a Kiln started without
  // KILN_BOOT_URL shows, without a second Kiln. Restored whatever happens.
  const DEFAULT_SITE = "00000000-0000-4000-8000-000000000001";
  const before = await apiOk<{ bootUrl: string | null }>(token, "GET", `/api/v1/sites/${DEFAULT_SITE}`, undefined, 200);
  const { ctx, page } = await adminPage(browser);
  try {
    await apiOk(token, "PATCH", `/api/v1/sites/${DEFAULT_SITE}`, { bootUrl: "http://127.0.0.1:3001" }, 200);
    await page.goto("/admin/hosts");
    const banner = page.getByTestId("boot-url-warning");
    await expect(banner).toContainText("Machines cannot reach the boot URL http://127.0.0.1:3001: 127.0.0.1 is a loopback address");
    await expect(banner).toContainText("Set KILN_BOOT_URL to an address the machines can reach");
    await page.goto("/admin/network-boot");
    await expect(page.getByTestId("boot-url-warning")).toBeVisible();
    const snippets = page.getByTestId("dhcp-snippet");
    await expect(snippets).toHaveCount(4);
    for (const s of await snippets.all()) {
      await expect(s).toHaveAttribute("aria-disabled", "true");
      await expect(s).toContainText("Not usable yet: it points machines at http://127.0.0.1:3001, which they cannot reach. Set KILN_BOOT_URL first.");
    }
  } finally {
    await apiOk(token, "PATCH", `/api/v1/sites/${DEFAULT_SITE}`, { bootUrl: before.bootUrl }, 200);
  }
  await page.goto("/admin/hosts");
  await expect(page.getByRole("heading", { name: "Hosts", exact: true })).toBeVisible();
  await expect(page.getByTestId("boot-url-warning")).toHaveCount(0);
  await ctx.close();
});

test("[UI] the favicon and static assets are served, and pages link an icon", async ({ page, request }) => {
  const ico = await request.get("/favicon.ico");
  expect(ico.status()).toBe(200);
  expect((await ico.body()).subarray(0, 4)).toEqual(Buffer.from([0, 0, 1, 0]));
  expect((await request.get("/robots.txt")).status()).toBe(200);
  expect((await request.get("/apple-touch-icon.png")).status()).toBe(200);
  const missing: string[] = [];
  page.on("response", (r) => r.status() === 404 && missing.push(r.url()));
  await page.goto("/signin");
  const icon = page.locator('link[rel="icon"]').first();
  const href = await icon.getAttribute("href");
  expect(href).toBeTruthy();
  expect((await request.get(href!)).status()).toBe(200);
  expect(missing).toEqual([]);
});

test("[ACCOUNTS] a password confirmation that does not match is explained and nothing is sent", async ({ page }) => {
  await page.goto("/register");
  let sent = 0;
  page.on("request", (r) => r.url().endsWith("/api/account/register") && sent++);
  await page.getByLabel("Email").fill(`mismatch-${suffix()}@lab.example`);
  await page.getByLabel("Password", { exact: true }).fill("a long enough passphrase");
  await page.getByLabel("Confirm password").fill("a long enough passphrasf");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("The two passwords do not match. Type the same password in both fields.")).toBeVisible();
  await expect(page.getByLabel("Confirm password")).toHaveAttribute("aria-invalid", "true");
  expect(sent).toBe(0);
});

test("[HOSTS] an admin imports hosts from CSV: a bad row is named and nothing is written, then the preview and the import", async ({ browser }) => {
  const s = suffix();
  const [m1, m2, m3] = macs(3);
  const taken = await apiOk<{ id: string; name: string }>(token, "POST", "/api/v1/hosts", { name: `taken-${s}`, interfaces: [{ mac: m3 }] }, 201);
  const { ctx, page } = await adminPage(browser);
  await page.goto("/admin/hosts");
  await page.getByRole("link", { name: "Import hosts" }).click();
  await expect(page.getByRole("heading", { name: "Import hosts" })).toBeVisible();

  const area = page.getByLabel("Hosts (CSV or JSON)");
  await area.fill(`name,macs,tags,power_driver,power_address\nimp-a-${s},${m1},gpu,ipmi,10.9.0.1\nimp-b-${s},${m2};${m3},,,`);
  await page.getByRole("button", { name: "Preview" }).click();
  const errors = page.getByTestId("import-errors");
  await expect(errors).toContainText(`row 2 (line 3): MAC ${m3} is already host ${taken.name}.`);
  await expect(errors).toContainText("nothing was imported");
  await expect(page.getByRole("button", { name: /^Import/ })).toBeDisabled();

  await area.fill(`name,macs,tags,power_driver,power_address\nimp-a-${s},${m1},gpu,ipmi,10.9.0.1\nimp-b-${s},${m2},,,`);
  await page.getByRole("button", { name: "Preview" }).click();
  const preview = page.getByRole("region", { name: "Import preview" });
  await expect(preview).toContainText("All 2 hosts are valid");
  await expect(preview).toContainText(`imp-a-${s}`);
  await expect(preview).toContainText("ipmi");
  await page.getByRole("button", { name: "Import 2 hosts" }).click();
  await expect(page.getByTestId("toast")).toContainText("Imported 2 hosts.");
  await page.waitForURL(/\/admin\/hosts$/);
  const found = await apiOk<{ data: { name: string; tags: string[]; interfaces: { mac: string; isPxe: boolean }[]; power: { driver: string; params: Record<string, unknown> } }[] }>(token, "GET", `/api/v1/hosts?q=imp-a-${s}`, undefined, 200);
  expect(found.data[0]).toMatchObject({ name: `imp-a-${s}`, tags: ["gpu"], interfaces: [{ mac: m1, isPxe: true }], power: { driver: "ipmi", params: { address: "10.9.0.1" } } });
  await ctx.close();
});

test("[HOSTS] an admin renames a host, adds an interface and chooses the one it boots from; a taken MAC names its host", async ({ browser }) => {
  const s = suffix();
  const [m1, m2, m3] = macs(3);
  const host = await apiOk<{ id: string }>(token, "POST", "/api/v1/hosts", { name: `edit-${s}`, interfaces: [{ mac: m1 }] }, 201);
  const other = await apiOk<{ name: string }>(token, "POST", "/api/v1/hosts", { name: `other-${s}`, interfaces: [{ mac: m3 }] }, 201);
  const { ctx, page } = await adminPage(browser);
  await page.goto(`/hosts/${host.id}`);
  const form = page.getByRole("region", { name: "Name and network interfaces" });
  await form.getByLabel("Name", { exact: true }).fill(`renamed-${s}`);
  await form.getByRole("button", { name: "+ Add interface" }).click();
  await form.getByLabel("MAC address 2").fill(m3);
  await form.getByLabel("Interface name 2").fill("eth1");
  await form.getByRole("button", { name: "Save name and interfaces" }).click();
  await expect(form.getByText(`MAC ${m3} already belongs to host ${other.name}.`)).toBeVisible();

  await form.getByLabel("MAC address 2").fill(m2.toUpperCase().replace(/:/g, "-"));
  await form.getByLabel("Boots from interface 2").check();
  await form.getByRole("button", { name: "Save name and interfaces" }).click();
  await expect(page.getByTestId("toast")).toContainText(`Saved the name and interfaces of renamed-${s}.`);
  await expect(page.getByRole("heading", { name: `renamed-${s}` })).toBeVisible();
  const view = await apiOk<{ host: { name: string; interfaces: { mac: string; name: string; isPxe: boolean }[] } }>(token, "GET", `/api/v1/hosts/${host.id}`, undefined, 200);
  expect(view.host.name).toBe(`renamed-${s}`);
  expect(view.host.interfaces).toEqual(
    expect.arrayContaining([
      { mac: m2, name: "eth1", isPxe: true },
      { mac: m1, name: "", isPxe: false },
    ]),
  );
  await ctx.close();
});

test("[ADMIN] the audit log stays inside its card on a narrow window", async ({ browser }) => {
  const { ctx, page } = await adminPage(browser);
  await page.setViewportSize({ width: 1024, height: 800 });
  await page.goto("/admin/audit");
  await expect(page.getByTestId("audit-table")).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await ctx.close();
});
