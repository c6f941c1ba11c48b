import { expect, test } from "@playwright/test";
import { adminToken, apiOk, registerResearcher } from "../support/api";
import { addMember, createPool, createProject, uniqueName } from "../support/inventory";
import { PASSWORD, readState } from "../support/state";
import { signIn } from "../support/ui";

test("[TEMPLATES] a researcher edits a template with a live preview for their host, saves version 2, marks the host, and /boot/<mac> answers it", async ({ page }) => {
  const admin = await adminToken(uniqueName("templates-ui"));
  const { email } = await registerResearcher("templater", 0);
  const pool = await createPool(admin, { name: uniqueName("pool") });
  const project = await createProject(admin, { name: uniqueName("proj") });
  const { userId } = await addMember(admin, project.id, email);
  const mac = "02:4b:49:4c:4e:01";
  const host = await apiOk<{ id: string; name: string }>(admin, "POST", "/api/v1/hosts", { name: uniqueName("tpl-node"), poolId: pool.id, interfaces: [{ mac, name: "eno1" }] }, 201);
  await apiOk(admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId, projectId: project.id, durationHours: 4 }, 201);

  await signIn(page, email, PASSWORD);
  await page.goto("/templates/new");
  await page.getByLabel("Name").fill("my boot script");
  await page.getByRole("button", { name: "Create template" }).click();
  await page.waitForURL(/\/templates\/[0-9a-f-]{36}$/);

  // The preview renders version 1 for the held host.
  const output = page.getByTestId("preview-output");
  await expect(output).toContainText(`echo Hello from ${host.name}`);

  // Edit: a syntax error shows its line and column; fixing it updates the preview.
  const editor = page.getByRole("textbox", { name: "Template my boot script" });
  await editor.click();
  await page.keyboard.press("ControlOrMeta+a");
  // insertText, not type: typing would trigger the editor's bracket auto-closing.
  await page.keyboard.insertText("#!ipxe\necho {{ host.name \n");
  await expect(page.getByTestId("preview-error")).toContainText("line 2, column");
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.insertText("#!ipxe\necho booting {{ host.name }} via {{ host.interface.name }} disk {{ vars.disk|default('sda') }}\nexit 1\n");
  await expect(output).toContainText(`echo booting ${host.name} via eno1 disk sda`);
  await page.getByLabel("Vars (JSON)").fill('{"disk": "nvme0n1"}');
  await expect(output).toContainText("disk nvme0n1");

  await page.getByLabel("What changed (optional)").fill("boot message");
  await page.getByRole("button", { name: "Save as version 2" }).click();
  await expect(page.getByText("Saved as version 2.")).toBeVisible();
  await page.getByRole("tab", { name: "Diff" }).click();
  await expect(page.getByTestId("diff")).toContainText("+echo booting");

  // Choose it on the host and mark the host for reinstall.
  await page.goto(`/hosts/${host.id}`);
  await expect(page.getByTestId("next-boot")).toContainText("Boots from its local disk.");
  await page.getByLabel("System template (iPXE)").selectOption({ label: "my boot script" });
  await page.getByLabel("Vars (JSON object; override the host's)").fill('{"disk": "vda"}');
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText("Boot settings saved.")).toBeVisible();
  await page.getByRole("button", { name: "Mark for reinstall" }).click();
  await expect(page.getByTestId("next-boot")).toContainText("Network-boots “my boot script” v2");

  // The machine's next network boot gets the rendered script.
  const res = await fetch(`${readState().baseURL}/boot/${mac.replace(/:/g, "-")}`);
  expect(res.status).toBe(200);
  expect(await res.text()).toBe(`#!ipxe\necho booting ${host.name} via eno1 disk vda\nexit 1\n`);

  await page.getByRole("button", { name: "Undo the mark" }).click();
  await expect(page.getByTestId("next-boot")).toContainText("Boots from its local disk.");
  expect(await (await fetch(`${readState().baseURL}/boot/${mac}`)).text()).toContain("boots from its local disk");
});
