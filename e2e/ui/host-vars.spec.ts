// Issue 14: an admin edits a host's own template variables on its page (before, only
// PUT /hosts/:id/vars could), and the researcher's lease card shows how to log in once Kiln
// knows an address. The address is written straight into host_addresses (as the boot server,
// agent or installer would record it): booting a lab machine for it would cost minutes, and
// the recording paths are covered by lib/hosts/connection-info.int.test.ts.
import { expect, test } from "@playwright/test";
import { adminToken, apiOk, connectDatabase, registerResearcher } from "../support/api";
import { addMember, createAdmin, createHost, createPool, createProject, uniqueName } from "../support/inventory";
import { PASSWORD } from "../support/state";
import { signIn } from "../support/ui";

test("[HOSTS] an admin sets a host's template variables in the UI, JSON mistakes are pointed at, and the API returns what was saved", async ({ page }) => {
  const token = await adminToken(uniqueName("host-vars"));
  const { email } = await createAdmin(token);
  const host = await createHost(token, { name: uniqueName("vars-node") });

  await signIn(page, email, PASSWORD);
  await page.goto(`/hosts/${host.id}`);
  const editor = page.getByRole("region", { name: "Template variables" });
  const text = editor.getByLabel("Variables (JSON object)");
  await expect(text).toHaveValue("{}");

  // A missing colon: said with its line and column, nothing sent.
  await text.fill('{\n  "username": "kiln",\n  "disk" "/dev/sda"\n}');
  await editor.getByRole("button", { name: "Save variables" }).click();
  await expect(editor.getByRole("alert")).toContainText("Not valid JSON at line 3, column 10");
  // A name the route's schema refuses, in the schema's words.
  await text.fill('{"2fast": 1}');
  await editor.getByRole("button", { name: "Save variables" }).click();
  await expect(editor.getByRole("alert")).toHaveText("2fast: Variable names are letters, digits and _ (not starting with a digit)");
  expect((await apiOk<{ hostVars: Record<string, unknown> }>(token, "GET", `/api/v1/hosts/${host.id}/boot`, undefined, 200)).hostVars).toEqual({});

  await text.fill('{"username": "kiln", "disks": ["/dev/sda", "/dev/sdb"]}');
  await editor.getByRole("button", { name: "Save variables" }).click();
  await expect(page.getByText("Saved 2 variables for this host.")).toBeVisible();
  const saved = await apiOk<{ hostVars: Record<string, unknown> }>(token, "GET", `/api/v1/hosts/${host.id}/boot`, undefined, 200);
  expect(saved.hostVars).toEqual({ username: "kiln", disks: ["/dev/sda", "/dev/sdb"] });
  // After the refresh the page shows what is stored.
  await page.reload();
  await expect(page.getByRole("region", { name: "Template variables" }).getByLabel("Variables (JSON object)")).toHaveValue(JSON.stringify(saved.hostVars, null, 2));
});

test("[LEASES] the lease card shows a copyable ssh line once Kiln learns a routable address", async ({ page }) => {
  const admin = await adminToken(uniqueName("lease-ssh"));
  const { email } = await registerResearcher("ssh", 0);
  const pool = await createPool(admin, { name: uniqueName("pool") });
  const project = await createProject(admin, { name: uniqueName("proj") });
  const host = await createHost(admin, { name: uniqueName("ssh-node"), poolId: pool.id });
  const { userId } = await addMember(admin, project.id, email);
  await apiOk(admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId, projectId: project.id, durationHours: 2 }, 201);

  await signIn(page, email, PASSWORD);
  const card = page.getByRole("article", { name: `Lease of ${host.name}` });
  await expect(card.getByTestId("lease-ssh-none")).toBeVisible();

  const sql = await connectDatabase();
  try {
    // A loopback relay's address first (what the lab's forwarder shows): still no line.
    await sql`insert into host_addresses (host_id, address, source, seen_at) values (${host.id}, '127.0.0.1', 'boot', now())`;
    await sql`insert into host_addresses (host_id, address, source, seen_at) values (${host.id}, '10.0.2.15', 'agent', now())`;
  } finally {
    await sql.end();
  }
  // The card polls: the line appears without a reload.
  await expect(card.getByTestId("lease-ssh-command")).toHaveText("ssh root@10.0.2.15", { timeout: 15_000 });
  await expect(card.getByRole("button", { name: "Copy" })).toBeVisible();
});
