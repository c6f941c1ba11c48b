// Power from the browser: a researcher switches a real (QEMU) lab machine on and off, and the
// worker's poll notices when it stops by itself; an admin configures a Redfish BMC from the
// host page, tests it and powers the host on with a one-shot network boot. The BMC is
// test/harness/redfish-sim.ts, an emulator written from the DMTF Redfish schema, because no
// real Redfish service can run here (none is packaged for Debian or npm, and there is no BMC).
import { expect, test } from "@playwright/test";
import { startRedfishSim } from "../../test/harness/redfish-sim";
import { adminToken, apiOk, registerResearcher } from "../support/api";
import { addMember, createAdmin, createPool, createProject, randomMac, uniqueName, type Named } from "../support/inventory";
import { createLabMachine, registerLabMachine, type LabMachine } from "../support/machines";
import { PASSWORD, readState } from "../support/state";
import { signIn } from "../support/ui";

test("[POWER] a researcher powers a lab machine on and off from the host page, and the badge follows the machine", async ({ page }) => {
  test.setTimeout(120_000);
  const admin = await adminToken(uniqueName("power-ui"));
  const { email } = await registerResearcher("poweruser", 0);
  const pool = await createPool(admin, { name: uniqueName("power") });
  const project = await createProject(admin, { name: uniqueName("power-proj") });
  const { userId } = await addMember(admin, project.id, email);
  let machine: LabMachine | null = null;
  try {
    // 52:54:00:4b:57:xx is this spec's own range: every lab spec has one, since they share one Kiln (the console spec has 56:xx).
    machine = await createLabMachine({ name: uniqueName("pwr-vm"), mac: "52:54:00:4b:57:01", port: Number(new URL(readState().baseURL).port) });
    const host = await registerLabMachine(admin, machine, pool.id);
    await apiOk(admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId, projectId: project.id, durationHours: 2 }, 201);

    await signIn(page, email, PASSWORD);
    await page.goto(`/hosts/${host.id}`);
    const card = page.getByTestId("power-controls");
    // The worker reads a new host within KILN_POWER_POLL_SECONDS (5 s in these tests); "Check now" reads it at once.
    await card.getByRole("button", { name: "Check now" }).click();
    await expect(card.getByTestId("power-badge")).toHaveText("power off");
    await expect(card.getByTestId("power-message")).toHaveText("VM is not running");

    await card.getByRole("button", { name: "Power on" }).click();
    const on = page.getByRole("dialog", { name: `Power on ${host.name}?` });
    await expect(on).toContainText(`${host.name} switches on and boots.`);
    await expect(on).toContainText("This machine asks Kiln over the network first on every boot.");
    await on.getByRole("button", { name: "Power on" }).click();
    await expect(on).toBeHidden();
    await expect(card.getByTestId("power-badge")).toHaveText("power on");
    await expect(page.getByText("Power on: done — VM started.")).toBeVisible();
    // The header badge is the same state.
    await expect(page.getByTestId("power-badge").first()).toHaveText("power on");
    await expect.poll(() => machine!.running(), { timeout: 15_000, message: "the VM runs" }).toBe(true);

    // The lease card on the home page shows it too.
    await page.goto("/");
    await expect(page.getByRole("article", { name: `Lease of ${host.name}` }).getByTestId("power-badge")).toHaveText("power on");

    await page.goto(`/hosts/${host.id}`);
    await card.getByRole("button", { name: "Power off" }).click();
    const off = page.getByRole("dialog", { name: `Power off ${host.name}?` });
    await expect(off).toContainText("switched off at once, like pulling the plug");
    await off.getByRole("button", { name: "Power off" }).click();
    await expect(card.getByTestId("power-badge")).toHaveText("power off");
    await expect.poll(() => machine!.running(), { timeout: 15_000, message: "the VM stops" }).toBe(false);

    // Switched on again, then stopped behind Kiln's back: the worker's poll notices and the badge follows.
    await card.getByRole("button", { name: "Power on" }).click();
    await page.getByRole("dialog", { name: `Power on ${host.name}?` }).getByRole("button", { name: "Power on" }).click();
    await expect(card.getByTestId("power-badge")).toHaveText("power on");
    await expect.poll(() => machine!.running(), { timeout: 15_000 }).toBe(true);
    await machine.stop();
    await expect(card.getByTestId("power-badge")).toHaveText("power off", { timeout: 30_000 });
  } finally {
    await machine?.remove();
  }
});

test("[POWER] an admin configures a Redfish BMC from the host page, tests it, and powers the host on with the next boot from the network", async ({ page }) => {
  const sim = await startRedfishSim({ powerState: "Off" });
  try {
    const admin = await adminToken(uniqueName("redfish-ui"));
    const { email } = await createAdmin(admin);
    const host = await apiOk<Named>(admin, "POST", "/api/v1/hosts", { name: uniqueName("rf"), interfaces: [{ mac: randomMac(), isPxe: true }], power: { driver: "manual" } }, 201);

    await signIn(page, email, PASSWORD);
    await page.goto(`/hosts/${host.id}`);
    const settings = page.getByRole("form", { name: "Power settings" });
    await settings.getByLabel("Power driver").selectOption("redfish");
    await settings.getByLabel("BMC address").fill(sim.address);
    await settings.getByLabel("Username").fill(sim.username);
    await settings.getByLabel("Password", { exact: true }).fill(sim.password);
    await expect(settings.getByLabel("Verify the BMC's certificate")).toBeChecked();
    await settings.getByRole("button", { name: "Save power settings" }).click();
    await expect(settings.getByText("Power settings saved.")).toBeVisible();

    // The emulator's certificate is self-signed: with verification on, the test says what to do.
    await settings.getByRole("button", { name: "Test power" }).click();
    await expect(settings.getByTestId("power-test-result")).toContainText("It does not work: The BMC's certificate at");
    await expect(settings.getByTestId("power-test-result")).toContainText("untick “verify certificate”");

    await settings.getByLabel("Verify the BMC's certificate").uncheck();
    await settings.getByRole("button", { name: "Save power settings" }).click();
    await expect(settings.getByText("Power settings saved.")).toBeVisible();
    // The password stays stored (write-only): the field is blank and says so.
    await expect(settings.getByLabel("Password", { exact: true })).toHaveValue("");
    await expect(settings.getByLabel("Password", { exact: true })).toHaveAttribute("placeholder", "set — leave blank to keep it");
    await settings.getByRole("button", { name: "Test power" }).click();
    await expect(settings.getByTestId("power-test-result")).toContainText("It works: the machine is off (PowerState is Off).");

    const card = page.getByTestId("power-controls");
    await expect(card.getByTestId("power-badge")).toHaveText("power off");
    await card.getByRole("button", { name: "Power on" }).click();
    const dialog = page.getByRole("dialog", { name: `Power on ${host.name}?` });
    await dialog.getByLabel("Boot from the network next time").check();
    await dialog.getByRole("button", { name: "Power on" }).click();
    await expect(dialog).toBeHidden();
    await expect(card.getByTestId("power-badge")).toHaveText("power on");

    // What the BMC was told: the one-shot PXE override, then Reset On, with the stored credentials.
    expect(sim.resets()).toEqual(["On"]);
    expect(sim.boot()).toMatchObject({ BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Once" });
    const writes = sim.requests().filter((r) => r.method !== "GET");
    expect(writes.map((r) => [r.method, r.path, r.body])).toEqual([
      ["PATCH", `/redfish/v1/Systems/${sim.systemId}`, { Boot: { BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Once" } }],
      ["POST", `/redfish/v1/Systems/${sim.systemId}/Actions/ComputerSystem.Reset`, { ResetType: "On" }],
    ]);
    expect(sim.powerState()).toBe("On");
    // Recorded on the host's timeline.
    await page.reload();
    await expect(page.getByText(/power on with the next boot from the network \(redfish\)/)).toBeVisible();
    // And the admin's host list shows the state beside the host's.
    await page.goto(`/admin/hosts?q=${encodeURIComponent(host.name)}`);
    await expect(page.getByTestId(`host-row-${host.name}`).getByTestId("power-badge")).toHaveText("power on");
  } finally {
    await sim.stop();
  }
});
