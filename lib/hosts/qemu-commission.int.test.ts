// Commissioning on a real machine (docs/commissioning.md): a QEMU machine Kiln has never seen
// (SeaBIOS + iPXE, 2 vCPUs, 768 MiB, one virtio disk, a virtio NIC) network-boots through Kiln's
// own routes; its first boot creates its commissioning run, the real deploy ramdisk reports the
// hardware, and the machine switches itself off (manual power: nobody else can).
import "@/test/harness/route-handler";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findHostByMac, listHostDeployments } from "@/db/queries/boot";
import { getHostRow } from "@/db/queries/hosts";
import { listHostFactVersions } from "@/db/queries/host-facts";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { startQemuProvisioningSetup, stopQemuProvisioningSetup, type ProvisioningSetup } from "@/test/harness/provisioning";
import { GUEST_KILN_URL, startVm, waitFor, type Vm } from "@/test/harness/qemu";
import type { HostFacts } from "./facts";

const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-qemu-commission-"));
setTestEnvDefaults({ KILN_DATA_DIR: path.join(tmp, "data"), KILN_RAMDISK_DIR: path.join(tmp, "ramdisk") });
const MiB = 1024 * 1024;

let setup: ProvisioningSetup;
const vms: Vm[] = [];

beforeAll(async () => {
  setup = await startQemuProvisioningSetup(t.db, { name: "qemu-commission", macByte: 0xc3, tmp });
}, 600_000);

afterAll(() => stopQemuProvisioningSetup({ setup, vms, tmp }));

describe("commissioning a new machine", () => {
  it("SeaBIOS + iPXE: its first network boot reports cores, memory, the virtio disk, the NIC's driver and BIOS firmware, then it powers off", async () => {
    const mac = "52:54:00:c3:00:01";
    expect(await findHostByMac(t.db, mac)).toBeUndefined();
    const disk = path.join(tmp, "disk.raw");
    await fs.writeFile(disk, "");
    await fs.truncate(disk, 256 * MiB);
    const started = Date.now();
    const vm = await startVm({ mac, kilnPort: setup.server.port, diskPath: disk, memoryMb: 768, cpus: 2, bootfile: `${GUEST_KILN_URL}/boot/${mac.replace(/:/g, "-")}` });
    vms.push(vm);
    // Powered off by itself: QEMU exits (no reboot into a disk that holds nothing).
    await waitFor(async () => vm.process.exitCode !== null, 300_000, vm, "the machine to power off (QEMU to exit)");
    const seconds = (Date.now() - started) / 1000;
    expect(vm.serial()).toContain("kiln-ramdisk: COMMISSIONED");
    expect(vm.serial()).toContain("kiln-ramdisk: powering off");

    const host = (await findHostByMac(t.db, mac))!.host;
    const [run] = await listHostDeployments(t.db, host.id, 1);
    expect(run, vm.serial().slice(-3000)).toMatchObject({ action: "commission", origin: "system", state: "done" });
    const row = (await getHostRow(t.db, host.id))!;
    console.info(`commissioned ${row.name} in ${seconds.toFixed(1)} s after QEMU started: ${row.cpuCores} CPUs, ${row.memoryMb} MB, disks ${JSON.stringify(row.disks)}`);
    expect(row.state).toBe("new");
    expect(row.cpuCores).toBe(2);
    // What the kernel makes of 768 MiB, less what it keeps for itself.
    expect(row.memoryMb).toBeGreaterThan(600);
    expect(row.memoryMb).toBeLessThanOrEqual(768);
    expect(row.disks).toEqual([expect.objectContaining({ name: "vda", sizeBytes: 256 * MiB })]);
    expect(["hdd", "ssd"]).toContain(row.disks[0]!.type);
    const facts = row.facts as HostFacts;
    expect(facts.firmware).toBe("bios");
    expect(facts.nics).toEqual([expect.objectContaining({ mac, driver: "virtio_net", link: true })]);
    expect(facts.cpu?.threads).toBe(2);
    expect(facts.cpu?.model).toBeTruthy();
    expect(facts.dmi?.vendor).toBe("QEMU");
    // No BMC in this machine: ipmitool found no IPMI device.
    expect(facts.bmc).toBeNull();
    expect(typeof facts.commissionedAt).toBe("string");
    expect((await listHostFactVersions(t.db, host.id)).map((v) => [v.version, v.source])).toEqual([[1, "commission"]]);
  }, 600_000);
});
