// A real client: QEMU's firmware with its iPXE NIC ROM network-boots against the running
// portal (../shared/LAB.md). Unmarked, Kiln answers local boot; marked, the holder's
// template — which the machine runs, fetching its per-deployment file with the token.
import { expect, test } from "@playwright/test";
import { adminToken, api, apiOk } from "../support/api";
import { uniqueName } from "../support/inventory";
import { readState } from "../support/state";
import { startVm, waitFor, type Vm } from "../../test/harness/qemu";

test.describe.configure({ mode: "serial" });

const MAC = "52:54:00:4b:49:01";

test("[BOOT] QEMU's iPXE gets local boot when unmarked (BIOS) and the holder's template when marked (UEFI)", async () => {
  test.setTimeout(150_000);
  const port = Number(new URL(readState().baseURL).port);
  const token = await adminToken("qemu-boot");
  const me = (await apiOk<{ user: { id: string; email: string } }>(token, "GET", "/api/v1/me", undefined, 200)).user;
  const pool = await apiOk<{ id: string }>(token, "POST", "/api/v1/pools", { name: uniqueName("qemu-pool") }, 201);
  const project = await apiOk<{ id: string }>(token, "POST", "/api/v1/projects", { name: uniqueName("qemu-proj") }, 201);
  await apiOk(token, "POST", `/api/v1/projects/${project.id}/members`, { email: me.email }, 201);
  const host = await apiOk<{ id: string; name: string }>(token, "POST", "/api/v1/hosts", { name: uniqueName("qemu-host"), poolId: pool.id, interfaces: [{ mac: MAC }] }, 201);
  await apiOk(token, "POST", "/api/v1/leases", { hostIds: [host.id], userId: me.id, projectId: project.id, durationHours: 2 }, 201);

  let vm: Vm | null = null;
  try {
    // 1. Unmarked, BIOS: the machine asks for /boot/<its mac> and is told to boot its disk.
    // Through the portal's port, as an older DHCP snippet sends machines: forwarded to the boot server.
    vm = await startVm({ mac: MAC, kilnPort: port });
    await waitFor(
      async () => {
        const h = await api(token, "GET", `/api/v1/hosts/${host.id}`);
        return h.body?.host?.lastSeenAt;
      },
      60_000,
      vm,
      "the machine to fetch /boot/<mac>",
    );
    const boot = await apiOk(token, "GET", `/api/v1/hosts/${host.id}/boot`, undefined, 200);
    expect(boot.nextBoot.mode).toBe("local");
    await vm.stop();
    vm = null;

    // 2. Marked, UEFI: the holder's own template, rendered for this host, runs in iPXE.
    const system = await apiOk<{ id: string }>(token, "POST", "/api/v1/templates", {
      name: uniqueName("qemu-probe"),
      kind: "system",
      format: "ipxe",
      source: "#!ipxe\necho KILN-TEMPLATE for {{ host.name }} mac {{ host.interface.mac }}\nimgfetch {{ deployment.urls.unattended }} || echo fetch failed\nexit 1\n",
    }, 201);
    const unattended = await apiOk<{ id: string }>(token, "POST", "/api/v1/templates", { name: uniqueName("qemu-answers"), kind: "unattended", format: "script", source: "#!/bin/sh\necho answers for {{ host.name }}\n" }, 201);
    await apiOk(token, "PUT", `/api/v1/hosts/${host.id}/boot`, { systemTemplateId: system.id, unattendedTemplateId: unattended.id, vars: {} }, 200);
    const mark = await apiOk<{ deploymentId: string }>(token, "POST", `/api/v1/hosts/${host.id}/reinstall`, {}, 201);

    // Straight to the boot server's port.
    vm = await startVm({ mac: MAC, kilnPort: readState().bootPort, uefi: true });
    const line = await waitFor(async () => vm!.serial().match(/KILN-TEMPLATE for \S+ mac \S+/)?.[0], 90_000, vm, "the marked template on the serial console");
    expect(line).toBe(`KILN-TEMPLATE for ${host.name} mac ${MAC}`);
    await waitFor(
      async () => {
        const h = await api(token, "GET", `/api/v1/hosts/${host.id}`);
        return (h.body?.events as { kind: string; message: string }[] | undefined)?.find((e) => e.kind === "fetched" && e.message.includes(mark.deploymentId));
      },
      30_000,
      vm,
      "the machine to fetch its unattended file with the deployment token",
    );
    const after = await apiOk(token, "GET", `/api/v1/hosts/${host.id}/boot`, undefined, 200);
    expect(after.deployments[0]).toMatchObject({ id: mark.deploymentId, state: "running" });
  } finally {
    await vm?.stop();
  }
});
