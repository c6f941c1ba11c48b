import { expect, test } from "@playwright/test";
import { adminToken, connectDatabase } from "../support/api";
import { createHost, uniqueName } from "../support/inventory";
import { ADMIN } from "../support/state";
import { signIn } from "../support/ui";

test("[SITES] an admin creates a site, moves a host to it and sees the site's boot servers", async ({ page }) => {
  const token = await adminToken("e2e-sites");
  const host = await createHost(token, { name: uniqueName("site-host") });
  const siteName = uniqueName("building-b");
  const bootServerName = `${uniqueName("boot-b")}:3101`;

  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/admin");
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Sites & boot servers" }).click();
  await expect(page.getByRole("heading", { name: "Sites & boot servers" })).toBeVisible();
  await expect(page.getByTestId("site-row-default")).toBeVisible();

  // A bad boot URL is refused with the field's own message; a good one is stored without its trailing slash.
  await page.getByRole("button", { name: "New site" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Name").fill(siteName);
  await dialog.getByLabel("Boot URL").fill("ftp://10.2.0.5");
  await dialog.getByRole("button", { name: "Create site" }).click();
  await expect(dialog.getByText("Use an http:// or https:// URL")).toBeVisible();
  await dialog.getByLabel("Boot URL").fill("http://10.2.0.5:3101/");
  await dialog.getByRole("button", { name: "Create site" }).click();
  const siteRow = page.getByTestId(`site-row-${siteName}`);
  await expect(siteRow).toContainText("http://10.2.0.5:3101");
  await expect(siteRow).toContainText("0 hosts");

  // Move the host there from its page.
  await page.goto(`/hosts/${host.id}`);
  const edit = page.getByRole("region", { name: "Pool, site, tags and notes" });
  await edit.getByLabel("Site", { exact: true }).selectOption({ label: siteName });
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit.getByText("Saved.")).toBeVisible();
  await expect(page.getByText(`moved to site ${siteName}`)).toBeVisible();

  // The hosts list shows the site, and filters by it.
  await page.goto("/admin/hosts");
  await page.getByRole("search").getByLabel("Site", { exact: true }).selectOption({ label: siteName });
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByTestId(`host-row-${host.name}`).getByTestId("host-site")).toHaveText(siteName);
  await expect(page.locator("[data-testid^=host-row-]")).toHaveCount(1);

  // A boot server of that site reports: its heartbeat row, as lib/sites/recordBootServerHeartbeat
  // writes it (inserted here so the spec does not wait on a second boot server's 10 s beat;
  // lib/sites/sites.int.test.ts covers the heartbeat itself).
  const sql = await connectDatabase();
  try {
    await sql`insert into boot_servers (name, site_id, url, version, pid, started_at, last_heartbeat_at, interval_seconds, interval_requests, interval_errors, requests_per_second, memory_ratio, p99_ms, total_requests, total_errors)
      select ${bootServerName}, id, 'http://10.2.0.5:3101', 'e2e', 4242, now(), now(), 10, 120, 3, 12, 0.95, 1.5, 1200, 7 from sites where name = ${siteName}`;
  } finally {
    await sql.end();
  }
  await page.goto("/admin/sites");
  const serverRow = page.getByTestId(`boot-server-row-${bootServerName}`);
  await expect(serverRow).toContainText(siteName);
  await expect(serverRow.getByTestId("boot-server-status")).toHaveText("up");
  await expect(serverRow).toContainText("12.0");
  await expect(serverRow).toContainText("95 %");
  await expect(page.getByTestId(`site-row-${siteName}`)).toContainText("1 host");

  // A site with a host is not deleted; the dialog says why.
  await page.getByRole("button", { name: `Delete site ${siteName}` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete site" }).click();
  await expect(page.getByRole("dialog").getByText(`Site ${siteName} still has 1 host; move it to another site first.`)).toBeVisible();
});
