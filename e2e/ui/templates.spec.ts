import { expect, test } from "@playwright/test";
import { adminToken, apiOk, registerResearcher } from "../support/api";
import { addMember, createPool, createProject, uniqueName } from "../support/inventory";
import { PASSWORD, readState } from "../support/state";
import { signIn } from "../support/ui";

test("[TEMPLATES] a researcher edits a template with a live preview for their host (undefined names are errors with line, column and a suggestion; the variables panel inserts names), saves version 2, reinstalls the host with it at its next network boot, and /boot/<mac> answers it", async ({ page }) => {
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

  // An undefined attribute is an error, not an empty "mac=": its line and column, the closest
  // names the host has, and the line marked in the editor.
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.insertText("#!ipxe\necho mac={{ host.mac }}\n");
  await expect(page.getByTestId("preview-error")).toContainText("line 2, column 18: host.mac is undefined — did you mean host.interface.mac or host.macs?");
  await expect(page.locator(".cm-error-line")).toHaveText("echo mac={{ host.mac }}");
  // A suggestion fixes the name in place.
  await page.getByTestId("preview-error").getByRole("button", { name: "Use host.interface.mac" }).click();
  await expect(editor).toContainText("echo mac={{ host.interface.mac }}");
  await expect(output).toContainText(`echo mac=${mac}`);
  await expect(page.locator(".cm-error-line")).toHaveCount(0);
  // Tests and defaults may look at an undefined name.
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.insertText("#!ipxe\necho {{ host.mac|default('none') }} {{ host.mac is defined }}\n");
  await expect(output).toContainText("echo none False");
  await expect(page.locator(".cm-error-line")).toHaveCount(0);

  // The variables panel lists what the template can use for this host, with values; a click
  // inserts it at the cursor.
  const panel = page.getByTestId("variables-panel");
  await expect(panel).toContainText(`Variables for ${host.name}`);
  await expect(panel.getByRole("button", { name: "Insert {{ host.interface.mac }}" })).toContainText(mac);
  await editor.click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.insertText("#!ipxe\necho mac=");
  await panel.getByLabel("Filter variables").fill("interface");
  await panel.getByRole("button", { name: "Insert {{ host.interface.mac }}" }).click();
  await expect(editor).toContainText("echo mac={{ host.interface.mac }}");
  await expect(output).toContainText(`echo mac=${mac}`);

  await editor.click();
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

  // Reinstall the host with it, at its next network boot (the holder restarts it: the old "mark").
  await page.goto(`/hosts/${host.id}`);
  await expect(page.getByTestId("host-next-boot")).toHaveText("Next boot: its local disk.");
  await page.getByRole("button", { name: "Reinstall…" }).click();
  const dialog = page.getByRole("dialog", { name: "Reinstall" });
  await dialog.getByLabel("Install with templates").check();
  await dialog.getByLabel("System template (iPXE)").selectOption({ label: "my boot script" });
  await dialog.getByLabel("Vars (JSON object; override the host's)").fill('{"disk": "vda"}');
  await dialog.getByLabel("At its next network boot — I restart it myself (Kiln does not touch its power)").check();
  await dialog.getByRole("button", { name: "Review…" }).click();
  await expect(dialog.getByTestId("reinstall-review")).toContainText(`Nothing happens to ${host.name} now: it runs this the next time it network-boots`);
  await expect(dialog.getByTestId("reinstall-review")).toContainText("(“my boot script”)");
  await dialog.getByRole("button", { name: "Erase the disk and install" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("host-next-boot")).toContainText("Next boot: the run's script (unattended install, deployment");

  // The machine's next network boot gets the rendered script.
  const res = await fetch(`${readState().baseURL}/boot/${mac.replace(/:/g, "-")}`);
  expect(res.status).toBe(200);
  expect(await res.text()).toBe(`#!ipxe\necho booting ${host.name} via eno1 disk vda\nexit 1\n`);

  // One Cancel ends it; Kiln never powered the machine for it, and says so.
  await page.getByRole("button", { name: "Cancel run…" }).click();
  const confirm = page.getByRole("dialog", { name: `Cancel the run on ${host.name}?` });
  await expect(confirm.getByTestId("cancel-consequences")).toContainText("Nothing is switched off");
  await confirm.getByRole("button", { name: "Cancel the run" }).click();
  await expect(page.getByTestId("host-next-boot")).toHaveText("Next boot: its local disk.");
  await expect(page.getByTestId("provisioning-state")).toHaveText("cancelled");

  // The choices were kept as the host's boot settings: the next Reinstall starts from them.
  await page.reload();
  await page.getByRole("button", { name: "Reinstall…" }).click();
  await dialog.getByLabel("Install with templates").check();
  await expect(dialog.getByLabel("System template (iPXE)")).toHaveValue(/[0-9a-f-]{36}/);
  await expect(dialog.getByLabel("Vars (JSON object; override the host's)")).toHaveValue(/"disk": "vda"/);
  expect(await (await fetch(`${readState().baseURL}/boot/${mac}`)).text()).toContain("boots from its local disk");
});
