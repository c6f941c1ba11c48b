// Debian's installer for real (`npm run test:install`; not part of `npm test`: too long under
// software emulation, docs/install-media.md has the measured times). A QEMU machine
// network-boots (SeaBIOS + iPXE) into Kiln's built-in "Debian 12 netinstall" template: the
// installer's kernel and initrd come from Kiln (/boot/media/debian-12/, copied from Debian's
// debian-installer-12-netboot-amd64 package), the preseed from the run, and every package from
// Debian's archive through apt-cacher-ng on loopback, which the guest reaches at
// 10.0.2.101:3142 (restrict=on: it reaches nothing else). The late command installs the holder's
// key and calls done; the machine reboots, Kiln answers "boot your disk", and the installed
// system shows a login prompt on its serial console and lets the holder in over ssh.
// Two stages on one machine: the first (the installer boots from Kiln, reads the run's preseed
// and reaches the archive through the proxy) holds wherever Debian's archive is reachable; the
// second needs the archive to serve the installer's own packages (.udeb), which some archive
// gateways refuse (docs/install-media.md): it checks that first and says so.
import "@/test/harness/route-handler";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getTemplateByBuiltinKey } from "@/db/queries/templates";
import { addSshKey } from "@/lib/accounts/profile";
import { ensureMedia } from "@/lib/boot/media";
import { getEnv, getProcessEnv } from "@/lib/env";
import { listHostAddresses } from "@/lib/hosts/addresses";
import { probeInstallerComponents, startAptProxy, type AptProxy } from "@/test/harness/apt-proxy";
import { useTestDb } from "@/test/harness/database";
import { freePort, makeSshKey, sshRun } from "@/test/harness/debian-cloud-image";
import { setTestEnvDefaults } from "@/test/harness/env";
import { startProvisioningSetup, stopQemuProvisioningSetup, waitFor as waitUntil, type ProvisioningSetup } from "@/test/harness/provisioning";
import { GUEST_KILN_URL, startVm, waitFor, type Vm } from "@/test/harness/qemu";
import { getDeployment } from "./views";
import { startDeployment } from "./start";
import { getNextBoot } from "./next-boot";
import { runWorkerSteps } from "./worker";

const t = await useTestDb();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-debian-install-"));
setTestEnvDefaults({ KILN_DATA_DIR: path.join(tmp, "data") });

// Where the guest finds the proxy: an address of slirp's network carried to apt-cacher-ng.
const PROXY_GUEST = { address: "10.0.2.101", port: 3142 };
// KILN_INSTALL_CPUS: the installer's vCPUs (TCG runs one host thread each; 2 by default).
const CPUS = Number(getProcessEnv().KILN_INSTALL_CPUS ?? 2);
const INSTALL_TIMEOUT_MS = Number(getProcessEnv().KILN_INSTALL_TIMEOUT_MINUTES ?? 120) * 60_000;

// The installer's progress titles (DEBIAN_FRONTEND=text prints them on the serial console), in
// order: the first time each shows is the start of a phase.
const PHASES: [string, RegExp][] = [
  ["installer kernel running", /Run \/init as init process/],
  ["network configured (DHCP)", /Configuring the network with DHCP/],
  ["preseed read, mirror checked through the proxy", /Checking the Debian archive mirror/],
  ["installer components loading", /Loading additional components/],
  ["disks detected", /Detecting disks|Partition disks|Starting up the partitioner/],
  ["disk partitioned", /Installing the base system/],
  ["base system installed", /Configure the package manager|Configuring apt/],
  ["software selected and installed", /Select and install software|Installing software/],
  ["boot loader", /Install the GRUB boot loader|Installing GRUB/],
  ["finishing (late command, done)", /Finishing the installation|Finish the installation/],
];

let setup: ProvisioningSetup;
let proxy: AptProxy;
const vms: Vm[] = [];
const seconds = (ms: number) => `${(ms / 1000).toFixed(0)} s`;

// What the stages share: the run, the machine and when each phase began.
let stage: { runId: string; hostId: string; name: string; mac: string; keyPath: string; disk: string; bootfile: string; installer: Vm; started: number; seen: Map<string, number>; watch: NodeJS.Timeout } | null = null;

/**
 * The installer asks nothing at priority=critical unless something went wrong: any prompt on
 * its console ("Downloading a file failed", a question the preseed missed) is the end.
 */
function installerStuck(serial: string): string | null {
  const text = serial.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
  const at = text.lastIndexOf("Prompt: '?' for help");
  if (at === -1) return null;
  return text.slice(Math.max(0, at - 1500), at + 80);
}

function phaseReport(): string {
  if (!stage) return "";
  return [...stage.seen.entries()].map(([label, at]) => `  ${label}: from ${seconds(at - stage!.started)}`).join("\n");
}

beforeAll(async () => {
  const media = await ensureMedia({ dir: getEnv().mediaDir, set: "debian-12", log: (l) => console.info(l) });
  if (!media) throw new Error("the Debian installer's netboot images are missing: bash scripts/ensure-deps.sh --install");
  proxy = await startAptProxy();
  setup = await startProvisioningSetup(t.db, { name: "debian-install", macByte: 0x1d });
  setTestEnvDefaults({ KILN_BOOT_URL: GUEST_KILN_URL });
}, 120_000);

afterAll(async () => {
  if (stage) clearInterval(stage.watch);
  await stopQemuProvisioningSetup({ setup, vms, tmp });
  await proxy?.stop();
});

describe("Debian 12 netinstall", () => {
  it("boots Debian's installer from Kiln's media; it reads the run's preseed and reaches the archive through the proxy", async () => {
    const { holder } = setup;
    const { hostId, name, mac } = await setup.heldHost();
    const key = await makeSshKey(tmp);
    await addSshKey(t.db, holder.user!.id, { publicKey: key.publicKey });
    const system = (await getTemplateByBuiltinKey(t.db, "debian-12-netinstall"))!;
    const answers = (await getTemplateByBuiltinKey(t.db, "debian-12-preseed"))!;

    const run = await startDeployment(t.db, holder, hostId, {
      action: "install",
      systemTemplateId: system.id,
      unattendedTemplateId: answers.id,
      vars: {
        // What a lab without a mirror sets (docs/install-media.md): packages through the proxy.
        apt_proxy: `http://${PROXY_GUEST.address}:${PROXY_GUEST.port}/`,
        // restrict=on: slirp's DHCP names no router and no name server, and no NTP server answers.
        // The installer would ask about each (at priority critical): answered on its command line.
        kernel_args: "DEBIAN_FRONTEND=text ipv6.disable=1 netcfg/get_nameservers=127.0.0.1 netcfg/no_default_route=true",
        ntp: false,
        // ssh-server only (not "standard"): the test proves the path, not Debian's task list.
        tasks: "ssh-server",
        console: "console=ttyS0,115200",
      },
    });
    expect(run.steps.map((s) => s.name)).toEqual(expect.arrayContaining(["boot", "install"]));
    await runWorkerSteps(t.db, run.id, "install", { backoffMs: [] });

    const disk = path.join(tmp, "disk.raw");
    await fs.writeFile(disk, "");
    await fs.truncate(disk, 8 * 1024 ** 3);
    const bootfile = `${GUEST_KILN_URL}/boot/${mac.replace(/:/g, "-")}`;
    const started = Date.now();
    const installer = await startVm({ mac, kilnPort: setup.server.port, diskPath: disk, memoryMb: 1024, cpus: CPUS, bootfile, guestForwards: [{ ...PROXY_GUEST, hostPort: proxy.port }] });
    vms.push(installer);
    // Phases, from the serial console, for the report.
    const seen = new Map<string, number>();
    const watch = setInterval(() => {
      const text = installer.serial();
      for (const [label, re] of PHASES) if (!seen.has(label) && re.test(text)) seen.set(label, Date.now());
    }, 2000);
    stage = { runId: run.id, hostId, name, mac, keyPath: key.privateKeyPath, disk, bootfile, installer, started, seen, watch };

    // The installer's mirror check goes through the proxy: the suite's Release file.
    await waitFor(async () => {
      const stuck = installerStuck(installer.serial());
      if (stuck) throw new Error(`the installer stopped at a question:\n${stuck}`);
      return (await proxy.requests()).some((l) => /\|deb\.debian\.org\/debian\/dists\/bookworm\/Release$/.test(l));
    }, 1_800_000, installer, "the installer's mirror check through the proxy");
    const view = await getDeployment(t.db, holder, run.id);
    expect(view.state).toBe("running");
    // Kiln rendered the run's preseed for it (the kernel and initrd came from /boot/media: nothing else serves them here).
    expect(view.logs.map((l) => l.line)).toEqual(expect.arrayContaining([expect.stringMatching(/^the installer fetched /)]));
    console.info(`Debian installer (${CPUS} vCPU) booted from Kiln's media and reached the archive through the proxy ${seconds(Date.now() - started)} after power-on:\n${phaseReport()}`);
  }, 2_400_000);

  it("installs Debian, calls done, and the installed system boots and lets the holder in with their key", async () => {
    if (!stage) throw new Error("the first stage did not start the installer");
    const { holder } = setup;
    const { runId, hostId, name, mac, keyPath, disk, bootfile, installer, started } = stage;
    // The installer's components come from the archive as udebs; without them it cannot go on.
    const probe = await probeInstallerComponents(proxy);
    if (probe.status !== 200) {
      throw new Error(
        `The Debian archive behind the proxy answers ${probe.status} for the installer's own packages (${probe.url}); Debian's installer loads partman, base-installer, grub-installer and its kernel modules as such .udeb files, so it cannot install from this archive. (docs/install-media.md: this machine's archive gateway serves .deb and .dsc files but answers 404 for most .udeb files.)`,
      );
    }

    let view;
    try {
      view = await waitUntil("the installer's done", async () => {
        const stuck = installerStuck(installer.serial());
        if (stuck) throw new Error(`the installer stopped at a question:\n${stuck}`);
        return getDeployment(t.db, holder, runId);
      }, (v) => v.state !== "running" && v.state !== "pending", INSTALL_TIMEOUT_MS);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nphases:\n${phaseReport()}\nserial:\n${installer.serial().slice(-6000)}`);
    } finally {
      clearInterval(stage.watch);
    }
    const doneAt = Date.now();
    console.info(`Debian 12 installed (${CPUS} vCPU) in ${seconds(doneAt - started)} from power-on to done:\n${phaseReport()}`);
    expect(view.state, `${view.failureReason}\n${installer.serial().slice(-4000)}`).toBe("done");
    // The proxy carried the packages: the installer had no other way to the archive.
    const fetched = await proxy.requests();
    expect(fetched.filter((l) => /\.u?deb$/.test(l)).length).toBeGreaterThan(50);

    // finish-install reboots; -no-reboot ends QEMU instead. Kiln now answers "boot your disk".
    await waitFor(async () => installer.process.exitCode !== null, 600_000, installer, "the installer's reboot (QEMU to exit)");
    expect(await getNextBoot(t.db, holder, hostId)).toEqual({ kind: "disk" });
    const addresses = (await listHostAddresses(t.db, [hostId])).get(hostId) ?? [];
    expect(addresses.map((a) => a.address)).toContain("10.0.2.15");

    const sshPort = await freePort();
    const bootedAt = Date.now();
    const installed = await startVm({ mac, kilnPort: setup.server.port, diskPath: disk, memoryMb: 512, bootfile, sshPort });
    vms.push(installed);
    await waitFor(async () => /\blogin: *$/m.test(installed.serial()), 600_000, installed, "the installed system's login prompt on ttyS0");
    const loginAt = Date.now();
    expect(installed.serial()).toContain(`${name} login:`);
    const whoami = await sshRun({ port: sshPort, keyPath, command: "hostname; id -un; sudo -n true && echo sudo-ok; cat /etc/debian_version", timeoutMs: 300_000 });
    console.info(`installed system: login prompt ${seconds(loginAt - bootedAt)} after power-on, ssh ${seconds(Date.now() - bootedAt)}; whole install ${seconds(Date.now() - started)}`);
    expect(whoami.split("\n")).toEqual([name, "kiln", "sudo-ok", expect.stringMatching(/^12\./), ""]);
    await installed.stop();
  }, 3 * 3600_000);
});
