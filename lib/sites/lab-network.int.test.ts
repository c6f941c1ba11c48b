// The DHCP snippets of the admin page (lib/sites/dhcp-snippets.ts), run for real: a private lab
// network (a network namespace with a bridge, test/harness/lab-network.ts), dnsmasq started
// with exactly the text the page shows (this network's subnet, TFTP directory and Kiln's boot
// URL filled in), QEMU machines on tap devices with no user-mode network, and Kiln reachable
// only at the boot network's address. Each machine DHCPs, gets iPXE over TFTP where its
// firmware has none, fetches /boot/chain.ipxe and its own /boot/<mac>, and Kiln's deploy
// ramdisk writes an image to its disk.
//
// - proxy-DHCP beside the lab's own DHCP server (busybox udhcpd on another "machine"): OVMF
//   without an iPXE ROM, so its own PXE client asks (arch 7), gets snponly.efi over TFTP, and
//   that iPXE asks again and gets the chain script.
// - dnsmasq as the boot network's DHCP server: SeaBIOS with QEMU's iPXE ROM (the "already
//   iPXE" branch); the BIOS and UEFI TFTP hand-offs are checked with a DHCP client sending
//   what PXE firmware sends, and the files fetched over TFTP.
//
// Needs root for network namespaces and tap devices; skipped, saying why, only where the
// kernel refuses them.
import "@/test/harness/route-handler";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureRamdisk } from "@/lib/boot/ramdisk";
import { getDeployment } from "@/lib/deployments/views";
import { startDeployment } from "@/lib/deployments/start";
import { runWorkerSteps } from "@/lib/deployments/worker";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { buildBootableImage } from "@/lab/bootable-image";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { ipxeBinary, LAB_SUBNET, labNetworkUnavailable, startLabNetwork, tftpSent, type LabNetwork, type LabProcess } from "@/test/harness/lab-network";
import { bootRoutes, seedReadyImage, startProvisioningSetup, waitFor as waitUntil, type ProvisioningSetup } from "@/test/harness/provisioning";
import { startVm, waitFor, type Vm } from "@/test/harness/qemu";
import { getBootUrlStatus } from "./boot-url-status";
import { dnsmasqFullSnippet, dnsmasqProxySnippet, IPXE_BINARIES, IPXE_DIR } from "./dhcp-snippets";

const unavailable = await labNetworkUnavailable();
if (unavailable) console.warn(`lab-network.int.test.ts skipped: ${unavailable}`);

const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-lab-network-"));
setTestEnvDefaults({ KILN_DATA_DIR: path.join(tmp, "data"), KILN_RAMDISK_DIR: path.join(tmp, "ramdisk") });
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let setup: ProvisioningSetup;
let lab: LabNetwork;
let tftpRoot: string;
let chainUrl: string;
let image: { id: string; bytes: Buffer };
/** Every path a machine asked Kiln for, in order; and when, for the report. */
const requests: string[] = [];
const requestTimes: string[] = [];
let vmStarted = 0;
const vms: Vm[] = [];
const servers: LabProcess[] = [];

/**
 * A held host with a deploy run waiting, and its machine started on the lab network: waits for
 * the run to end and the machine to reboot (QEMU exits), and checks its disk from the host.
 */
async function deployThroughLab(opts: { uefi: boolean; optionRom: boolean }) {
  const { holder } = setup;
  const { hostId, mac, name } = await setup.heldHost();
  const disk = path.join(tmp, `disk-${mac.replace(/:/g, "")}.raw`);
  await fs.writeFile(disk, Buffer.alloc(0));
  await fs.truncate(disk, 64 * 1024 * 1024);
  const run = await startDeployment(t.db, holder, hostId, { action: "deploy_image", imageId: image.id, disk: "vda" });
  await runWorkerSteps(t.db, run.id, "deploy_image", { backoffMs: [] });
  requests.length = 0;
  requestTimes.length = 0;
  const started = (vmStarted = Date.now());
  const vm = await startVm({
    mac,
    uefi: opts.uefi,
    diskPath: disk,
    memoryMb: 512,
    tap: { netns: lab.ns, ifname: await lab.addTap(), optionRom: opts.optionRom },
    // OVMF's own IPv4 PXE client is the network boot when the NIC has no iPXE ROM; IPv6 is not offered here.
    ...(opts.uefi ? { ovmfNetworkStack: !opts.optionRom, extraArgs: ["-fw_cfg", "name=opt/org.tianocore/IPv6Support,string=no"] } : {}),
  });
  vms.push(vm);
  const context = () => `\nserial:\n${vm.serial().slice(-3000)}\nrequests:\n${requestTimes.join("\n")}\n${servers.map((s) => `${s.name}:\n${s.output().slice(-3000)}`).join("\n")}`;
  const dashed = mac.replace(/:/g, "-");
  const view = await waitUntil("the run's end", () => getDeployment(t.db, holder, run.id), (v) => v.state !== "running" && v.state !== "pending", 240_000).catch((e) => {
    throw new Error(`${(e as Error).message}${context()}`);
  });
  expect(view.state, `${view.failureReason}${context()}`).toBe("done");
  await waitFor(async () => vm.process.exitCode !== null, 60_000, undefined, "the machine to reboot (QEMU to exit)");
  const written = await fs.readFile(disk);
  expect(sha(written.subarray(0, image.bytes.length))).toBe(sha(image.bytes));
  // Under OVMF, iPXE prints to the serial console: Kiln's per-MAC answer said what it was for.
  if (opts.uefi) expect(vm.serial()).toContain(`Kiln: deploying an image to ${name}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.info(`${opts.uefi ? "OVMF" : "SeaBIOS"}: ${requestTimes.filter((r) => !r.includes("/progress") && !r.includes("/log")).join(", ")}`);
  return { dashed, vm, seconds };
}

describe.skipIf(unavailable !== null)(`a lab network booted from the admin page's DHCP snippets${unavailable ? ` (skipped: ${unavailable})` : ""}`, () => {
  beforeAll(async () => {
    await ensureRamdisk({ dir: path.join(tmp, "ramdisk"), log: () => {} });
    setup = await startProvisioningSetup(t.db, { name: "lab-network", macByte: 0x3d });
    lab = await startLabNetwork({ kilnPort: setup.server.port });
    setTestEnvDefaults({ KILN_BOOT_URL: lab.kilnUrl });
    setup.server.setHandler((req) => {
      requests.push(new URL(req.url).pathname);
      requestTimes.push(`${((Date.now() - vmStarted) / 1000).toFixed(1)} s ${new URL(req.url).pathname.replace(/\/[A-Za-z0-9_-]{20,}\//, "/…/")}`);
      return bootRoutes(req);
    });
    // The boot URL and chain URL exactly as the admin page gets them.
    chainUrl = (await getBootUrlStatus(t.db)).chainUrl;
    expect(chainUrl).toBe(`http://${LAB_SUBNET.gateway}/boot/chain.ipxe`);
    // The TFTP directory as the page's note says to fill it.
    tftpRoot = path.join(lab.dir, "tftp");
    await fs.mkdir(tftpRoot, { mode: 0o755 });
    for (const f of IPXE_BINARIES) await fs.copyFile(path.join(IPXE_DIR, f), path.join(tftpRoot, f));
    // A small image that boots on its own (what a lab deploys); only its bytes on disk are checked here.
    const imgFile = path.join(tmp, "bootable.img");
    await buildBootableImage({ kernelPath: path.join(tmp, "ramdisk", "vmlinuz"), outPath: imgFile, marker: "lab-network", sizeMb: 24 });
    const bytes = await fs.readFile(imgFile);
    image = { id: (await seedReadyImage(t.db, { ownerUserId: setup.holder.user!.id, bytes })).image.id, bytes };
  }, 600_000);

  afterEach(async () => {
    await Promise.all(vms.splice(0).map((v) => v.stop()));
    for (const s of servers.splice(0)) await s.stop();
    requests.length = 0;
    requestTimes.length = 0;
  });

  afterAll(async () => {
    await lab?.close();
    await setup?.close();
    await stopJobSender();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it("proxy-DHCP beside the lab's DHCP server: UEFI firmware without iPXE gets snponly.efi over TFTP, chains to Kiln and deploys", async () => {
    servers.push(await lab.startLabDhcp());
    const dnsmasq = await lab.startDnsmasq(dnsmasqProxySnippet({ chainUrl, subnet: LAB_SUBNET.network, tftpRoot }));
    servers.push(dnsmasq);

    const { dashed, vm, seconds } = await deployThroughLab({ uefi: true, optionRom: false });
    console.info(`proxy-DHCP, OVMF PXE → TFTP snponly.efi → iPXE → Kiln: image deployed and rebooting after ${seconds} s`);

    const log = dnsmasq.output();
    // The firmware's own PXE client (arch 7, no iPXE user class) was told snponly.efi and fetched it from dnsmasq.
    expect(log).toMatch(/vendor class: PXEClient:Arch:00007/);
    expect(tftpSent(log)).toContain("snponly.efi");
    expect(log).toMatch(/PXE\(br0\) 52:54:00:3d:\S+ proxy/);
    // The address came from the lab's DHCP server, not from dnsmasq.
    expect(servers[0]!.output()).toMatch(/sending ACK to 10\.213\.0\.\d+/);
    // Then iPXE: the chain URL from dnsmasq, the chain script and this machine's own script from Kiln.
    expect(log).toContain(`bootfile name: ${chainUrl}`);
    expect(vm.serial()).toContain(`Filename: ${chainUrl}`);
    expect(requests.slice(0, 2)).toEqual(["/boot/chain.ipxe", `/boot/${dashed}`]);
  }, 400_000);

  it("dnsmasq as the boot network's DHCP server: PXE firmware is told undionly.kpxe or snponly.efi over TFTP, and a BIOS machine with iPXE chains to Kiln and deploys", async () => {
    const dnsmasq = await lab.startDnsmasq(dnsmasqFullSnippet({ chainUrl, subnet: LAB_SUBNET.network, rangeStart: LAB_SUBNET.rangeStart, rangeEnd: LAB_SUBNET.rangeEnd, router: LAB_SUBNET.gateway, tftpRoot }));
    servers.push(dnsmasq);
    const inRange = expect.stringMatching(/^10\.213\.0\.(1\d\d|200)$/);

    // What PXE firmware without iPXE sends (vendor class and client arch, option 93), and what iPXE adds (user class "iPXE", option 77).
    const bios = await lab.dhcpProbe({ vendorClass: "PXEClient:Arch:00000:UNDI:002001", options: ["0x5d:0000"] });
    expect(bios).toMatchObject({ ip: inRange, boot_file: "undionly.kpxe", siaddr: LAB_SUBNET.gateway });
    expect((await lab.tftpGet(bios!.siaddr!, "undionly.kpxe")).equals(ipxeBinary("undionly.kpxe"))).toBe(true);
    const uefi = await lab.dhcpProbe({ vendorClass: "PXEClient:Arch:00007:UNDI:003016", options: ["0x5d:0007"] });
    expect(uefi).toMatchObject({ ip: inRange, boot_file: "snponly.efi", siaddr: LAB_SUBNET.gateway });
    expect((await lab.tftpGet(uefi!.siaddr!, "snponly.efi")).equals(ipxeBinary("snponly.efi"))).toBe(true);
    const ipxe = await lab.dhcpProbe({ vendorClass: "PXEClient:Arch:00007:UNDI:003016", options: ["0x5d:0007", `0x4d:${Buffer.from("iPXE").toString("hex")}`] });
    expect(ipxe).toMatchObject({ ip: inRange, boot_file: chainUrl });
    // UEFI HTTP-boot clients are not handed a TFTP file name they cannot use.
    const http = await lab.dhcpProbe({ vendorClass: "HTTPClient:Arch:00016:UNDI:003000", options: ["0x5d:0010"] });
    expect(http).toMatchObject({ ip: inRange });
    expect(http!.boot_file ?? "").toBe("");

    const { dashed, seconds } = await deployThroughLab({ uefi: false, optionRom: true });
    console.info(`dnsmasq DHCP, SeaBIOS + iPXE ROM → Kiln: image deployed and rebooting after ${seconds} s`);
    const log = dnsmasq.output();
    expect(log).toMatch(/user class: iPXE/);
    expect(log).toMatch(/DHCPACK\(br0\) 10\.213\.0\.\d+ 52:54:00:3d:/);
    expect(requests.slice(0, 2)).toEqual(["/boot/chain.ipxe", `/boot/${dashed}`]);
  }, 400_000);
});
