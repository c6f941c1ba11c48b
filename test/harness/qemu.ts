// A real machine for tests: QEMU with SeaBIOS (or OVMF for UEFI) and its iPXE NIC ROM,
// network-booting against Kiln. User-mode networking, restricted: the guest reaches
// nothing but Kiln, through a guestfwd to 10.0.2.100:80 (see ../shared/LAB.md), and the
// further addresses a test forwards; or, with `tap`, a real network (test/harness/lab-network.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export const GUEST_KILN_URL = "http://10.0.2.100";

export type Vm = { process: ChildProcess; serial: () => string; stop: () => Promise<void>; dir: string };

export function findBusybox(): string {
  for (const p of ["/bin/busybox", "/usr/bin/busybox"]) if (existsSync(p)) return p;
  throw new Error("busybox is missing: run `bash scripts/ensure-deps.sh` (it installs busybox-static)");
}

export async function startVm(opts: {
  mac: string;
  /** Kiln's port on 127.0.0.1 (user-mode networking). Without it or `tap` the machine has no NIC (a disk-only boot). */
  kilnPort?: number;
  uefi?: boolean;
  diskPath?: string;
  diskSizeMb?: number;
  memoryMb?: number;
  bootfile?: string;
  /**
   * The firmware's boot order, as a lab machine is set up: "network" (default) tries the NIC
   * first and the disk next, which is what Kiln's local-boot answer relies on; "disk" the disk
   * first. Set with bootindex: OVMF ignores `-boot order` and boots a bootable disk first.
   */
  bootFirst?: "network" | "disk";
  /**
   * OVMF's own PXE and HTTP boot entries for the NIC. Off by default: iPXE's option ROM is the
   * network boot, and after its `exit 1` OVMF would run those four entries first (about 15 s
   * under TCG, and an HTTP boot request for the bootfile) before the disk.
   */
  ovmfNetworkStack?: boolean;
  /**
   * Boots this kernel and initrd straight from QEMU (no firmware network boot), as iPXE's
   * `kernel … initrd=…`/`initrd`/`boot` would: the deploy ramdisk's own tests use it.
   */
  direct?: { kernel: string; initrd: string; append: string };
  /** More raw disk files, attached after the first one as further virtio disks (vdb, vdc, …). */
  extraDisks?: string[];
  /**
   * A real network instead of user-mode: the NIC on tap device `ifname` inside network namespace
   * `netns` (test/harness/lab-network.ts), QEMU itself started in that namespace. `optionRom:
   * false` removes the NIC's iPXE ROM, so the firmware's own PXE client boots (OVMF; SeaBIOS has
   * none). Takes the place of user-mode networking: kilnPort, bootfile, sshPort and
   * guestForwards do not apply.
   */
  tap?: { netns: string; ifname: string; optionRom?: boolean };
  /** Appended to QEMU's arguments. */
  extraArgs?: string[];
  /** A loopback port forwarded to the guest's port 22 (works with restrict=on): ssh into the installed system. */
  sshPort?: number;
  /** More guest addresses carried to loopback ports, as Kiln's is (10.0.2.101:3142 → an apt proxy, say). */
  guestForwards?: { address: string; port: number; hostPort: number }[];
  /** Virtual CPUs (default 1): TCG runs one host thread per vCPU. */
  cpus?: number;
}): Promise<Vm> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-vm-"));
  const disk = opts.diskPath ?? path.join(dir, "disk.raw");
  if (!opts.diskPath) writeFileSync(disk, Buffer.alloc(0)), await fs.truncate(disk, (opts.diskSizeMb ?? 64) * 1024 * 1024);
  const serialFile = path.join(dir, "serial.log");
  const args = [
    "-accel", "tcg",
    "-m", String(opts.memoryMb ?? 256),
    "-smp", String(opts.cpus ?? 1),
    "-nodefaults",
    "-display", "none",
    "-serial", `file:${serialFile}`,
    "-monitor", "none",
    "-no-reboot",
  ];
  const [nicIndex, diskIndex] = opts.bootFirst === "disk" ? [2, 1] : [1, 2];
  const netdev = opts.tap ? `tap,id=n0,ifname=${opts.tap.ifname},script=no,downscript=no` : opts.kilnPort !== undefined ? userNetdev(opts.kilnPort, opts) : null;
  if (netdev) args.push("-netdev", netdev, "-device", `virtio-net-pci,netdev=n0,mac=${opts.mac},bootindex=${nicIndex}${opts.tap?.optionRom === false ? ",romfile=" : ""}`);
  args.push("-drive", `file=${disk},format=raw,if=none,id=disk0`, "-device", `virtio-blk-pci,drive=disk0,bootindex=${diskIndex}`);
  (opts.extraDisks ?? []).forEach((file, i) => args.push("-drive", `file=${file},format=raw,if=none,id=disk${i + 1}`, "-device", `virtio-blk-pci,drive=disk${i + 1}`));
  if (opts.direct) args.push("-kernel", opts.direct.kernel, "-initrd", opts.direct.initrd, "-append", opts.direct.append);
  if (opts.uefi) {
    const vars = path.join(dir, "OVMF_VARS.fd");
    copyFileSync("/usr/share/OVMF/OVMF_VARS_4M.fd", vars);
    args.unshift("-machine", "q35", "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd", "-drive", `if=pflash,format=raw,file=${vars}`);
    if (!opts.ovmfNetworkStack) args.push("-fw_cfg", "name=opt/org.tianocore/IPv4Support,string=no", "-fw_cfg", "name=opt/org.tianocore/IPv6Support,string=no");
  }
  args.push(...(opts.extraArgs ?? []));
  // `ip netns exec` execs QEMU: the child's pid is QEMU's.
  const child = opts.tap
    ? spawn("ip", ["netns", "exec", opts.tap.netns, "qemu-system-x86_64", ...args], { stdio: ["ignore", "ignore", "pipe"] })
    : spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const serial = () => {
    try {
      return readFileSync(serialFile, "utf8");
    } catch {
      return "";
    }
  };
  return {
    process: child,
    dir,
    serial: () => serial() + (child.exitCode !== null && stderr ? `\n[qemu stderr] ${stderr}` : ""),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      await fs.rm(dir, { recursive: true, force: true }).catch(() => {});
    },
  };
}

/** User-mode networking: Kiln at 10.0.2.100:80 and the test's further forwards, and the guest's ssh from loopback. */
function userNetdev(kilnPort: number, opts: { bootfile?: string; sshPort?: number; guestForwards?: { address: string; port: number; hostPort: number }[] }): string {
  const forwards = [{ address: "10.0.2.100", port: 80, hostPort: kilnPort }, ...(opts.guestForwards ?? [])];
  return [
    "user,id=n0,restrict=on",
    `bootfile=${opts.bootfile ?? `${GUEST_KILN_URL}/boot/chain.ipxe`}`,
    // A plain guestfwd carries one connection only; a command per connection carries them all.
    ...forwards.map((f) => `guestfwd=tcp:${f.address}:${f.port}-cmd:${findBusybox()} nc 127.0.0.1 ${f.hostPort}`),
    ...(opts.sshPort ? [`hostfwd=tcp:127.0.0.1:${opts.sshPort}-:22`] : []),
  ].join(",");
}

/** Polls `check` until it returns a value, or fails with what the VM printed. */
export async function waitFor<T>(check: () => Promise<T | null | undefined | false>, timeoutMs: number, vm?: Vm, what = "the condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.${vm ? `\nSerial console:\n${vm.serial().slice(-3000)}` : ""}`);
    if (vm && vm.process.exitCode !== null) throw new Error(`QEMU exited (${vm.process.exitCode}) before ${what}.\n${vm.serial().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
