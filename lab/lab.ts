// One file: the lab's machines from plan to launch script, registration and stop, as scripts/lab.ts
// runs them; the steps share LabMachine and the constants below.
// The virtual lab (`npm run lab`): QEMU machines that network-boot against this Kiln, so a
// newcomer can lease, deploy and watch without hardware. Each machine is a directory under
// KILN_DATA_DIR/lab/<name>/ (sparse raw disk, launch script, QMP socket, serial log, OVMF
// vars) and a host in pool `lab` with the `qemu` power driver: Kiln runs the launch script
// when a run needs the machine on and talks QMP to it afterwards. Registration goes through
// lib/ as the system, so it is validated and audited like an administrator's, and a second
// start finds everything it made the first time.
//
// Networking is QEMU's user mode with restrict=on: the guest reaches nothing but Kiln, at
// 10.0.2.100:80, which a guestfwd turns into a connection to Kiln's port on this machine.
// No privileges, no bridges, and a lab machine cannot talk to the lab's real network.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { getUserByEmail, updateUser } from "@/db/queries/users";
import { getMembership } from "@/db/queries/projects";
import { createUserAsAdmin } from "@/lib/accounts/create-user";
import { getUserStatus } from "@/lib/users/user-view";
import { SYSTEM } from "@/lib/access/actor";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import type { Db } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { createHost, listHosts, updateHost, type HostView } from "@/lib/hosts/hosts";
import { createImage, listImages } from "@/lib/images/images";
import { importImageVersion } from "@/lib/images/import";
import { createPool, listPools } from "@/lib/pools/pools";
import { qmp } from "@/lib/power/qemu";
import { addProjectMember, createProject, listProjects } from "@/lib/projects/projects";
import { buildBootableImage, BOOTED_PREFIX } from "./bootable-image";

export const LAB_POOL = "lab";
export const LAB_PROJECT = "lab";
export const LAB_IMAGE = "lab-demo";
export const LAB_ACCOUNT_EMAIL = "lab@kiln.example";
/** What the lab machines call Kiln; KILN_BOOT_URL while the lab runs. */
export const GUEST_BOOT_URL = "http://10.0.2.100";
/**
 * Where lab machines dial NBD exports (diskless roots, extra disks): each port of the lab's
 * KILN_NBD_PORTS is forwarded from this guest address to the one qemu-nbd listens on.
 */
export const GUEST_NBD_ADDRESS = "10.0.2.101";
/** The lab's export ports when KILN_NBD_PORTS is unset: one guestfwd each, so kept small. */
export const LAB_NBD_PORTS = "10810-10841";
/** Launch scripts forward at most this many export ports (a guestfwd per port). */
export const MAX_LAB_NBD_PORTS = 256;

/** What a lab machine's network reaches: Kiln's boot server, and the NBD export ports. */
export type LabUplink = { host: string; port: number; nbd?: { host: string; ports: { first: number; last: number } } };
/** 52:54:00 is QEMU's prefix; 4b:4c ("KL") keeps lab machines apart from other VMs. */
const MAC_PREFIX = "52:54:00:4b:4c";
export const MAX_LAB_MACHINES = 99;
/**
 * lab-NN's ssh is forwarded from this machine's 127.0.0.1:(22000 + NN) (QEMU's hostfwd): the
 * address the guest reports (10.0.2.15) is QEMU's private network, unreachable from here, so a
 * researcher who deployed the cloud image logs in through the forwarded port.
 */
export const LAB_SSH_BASE_PORT = 22000;
const OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd";
/** sun_path is 108 bytes on Linux; QEMU refuses a longer socket path with an unhelpful message. */
const MAX_SOCKET_PATH = 107;

export type LabSpec = { count: number; uefi: boolean; memoryMb: number; diskGb: number };

export type LabMachine = {
  name: string;
  mac: string;
  dir: string;
  disk: string;
  launch: string;
  qmpSocket: string;
  /** The serial port as a unix socket (the console in the browser attaches here); QEMU logs it to serialLog too. */
  serialSocket: string;
  serialLog: string;
  qemuLog: string;
  ovmfVars: string;
  uefi: boolean;
  memoryMb: number;
  diskBytes: number;
  /** More disks, attached read-only after the first (bench:deploy gives the VM a local copy of the image). */
  extraDrives?: string[];
  /** A loopback port forwarded to the guest's ssh (port 22): log in to what Kiln installed. */
  sshPort?: number;
};

export function labRoot(dataDir: string): string {
  return path.join(dataDir, "lab");
}

/** The files of a machine kept in `dir`: its disk, launch script, sockets, logs and UEFI vars. */
export function labMachineFiles(dir: string): Pick<LabMachine, "dir" | "disk" | "launch" | "qmpSocket" | "serialSocket" | "serialLog" | "qemuLog" | "ovmfVars"> {
  return {
    dir,
    disk: path.join(dir, "disk.raw"),
    launch: path.join(dir, "start-vm.sh"),
    qmpSocket: path.join(dir, "qmp.sock"),
    serialSocket: path.join(dir, "serial.sock"),
    serialLog: path.join(dir, "serial.log"),
    qemuLog: path.join(dir, "qemu.log"),
    ovmfVars: path.join(dir, "OVMF_VARS.fd"),
  };
}

export function planLabMachines(dataDir: string, spec: LabSpec): LabMachine[] {
  if (!Number.isInteger(spec.count) || spec.count < 1 || spec.count > MAX_LAB_MACHINES) throw new Error(`--machines must be a whole number from 1 to ${MAX_LAB_MACHINES}, not ${spec.count}`);
  if (!Number.isInteger(spec.memoryMb) || spec.memoryMb < 256) throw new Error(`--memory must be at least 256 (MB): the deploy ramdisk needs it, not ${spec.memoryMb}`);
  if (!Number.isInteger(spec.diskGb) || spec.diskGb < 1 || spec.diskGb > 1024) throw new Error(`--disk-gb must be a whole number from 1 to 1024, not ${spec.diskGb}`);
  return Array.from({ length: spec.count }, (_, i) => {
    const n = String(i + 1).padStart(2, "0");
    const name = `lab-${n}`;
    const machine: LabMachine = {
      name,
      mac: `${MAC_PREFIX}:${(i + 1).toString(16).padStart(2, "0")}`,
      ...labMachineFiles(path.join(labRoot(dataDir), name)),
      uefi: spec.uefi,
      memoryMb: spec.memoryMb,
      diskBytes: spec.diskGb * 1024 ** 3,
      sshPort: LAB_SSH_BASE_PORT + i + 1,
    };
    if (Buffer.byteLength(machine.qmpSocket) > MAX_SOCKET_PATH || Buffer.byteLength(machine.serialSocket) > MAX_SOCKET_PATH) {
      throw new Error(`${machine.serialSocket} is too long for a socket path (at most ${MAX_SOCKET_PATH} bytes); use a shorter KILN_DATA_DIR`);
    }
    return machine;
  });
}

/** What QEMU and the lab need on this machine, as one sentence per missing piece. */
export function missingLabDependencies(spec: Pick<LabSpec, "uefi">, pathEnv: string): string[] {
  const onPath = (cmd: string) => pathEnv.split(":").some((d) => d && existsSync(path.join(d, cmd)));
  const missing: string[] = [];
  if (!onPath("qemu-system-x86_64")) missing.push("qemu-system-x86_64 (Debian package qemu-system-x86)");
  if (!findBusybox()) missing.push("busybox (busybox-static), which carries the lab machines' connections to Kiln");
  if (!existsSync("/usr/lib/ipxe/qemu/efi-virtio.rom")) missing.push("QEMU's iPXE network boot ROMs (ipxe-qemu)");
  if (spec.uefi && !(existsSync(OVMF_CODE) && existsSync(OVMF_VARS))) missing.push(`UEFI firmware ${OVMF_CODE} (ovmf)`);
  return missing;
}

function findBusybox(): string | undefined {
  return ["/bin/busybox", "/usr/bin/busybox"].find((p) => existsSync(p));
}

function sh(s: string): string {
  return /^[A-Za-z0-9_.,:=/@+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A value inside a QEMU option list (`a=b,c=d`): commas are doubled. */
function opt(s: string): string {
  return s.replace(/,/g, ",,");
}

/**
 * The launch script the `qemu` power driver runs. Network first, then the disk: a machine
 * always asks Kiln first, and Kiln answers "boot your disk" when it has nothing to do — as a
 * real lab's machines are set up. bootindex, not `-boot order=n`: OVMF ignores the latter and
 * boots a bootable disk directly, so a deployed UEFI machine would never ask Kiln again
 * (SeaBIOS honours both; checked with a deployed disk under each). No -no-reboot:
 * a deployed machine reboots into its disk. The serial console is appended to, one header a
 * power-on, so the log tells the whole story of the machine.
 */
export function launchScript(m: LabMachine, kiln: LabUplink): string {
  const busybox = findBusybox() ?? "/bin/busybox";
  const nbdPorts = kiln.nbd ? Array.from({ length: Math.min(kiln.nbd.ports.last - kiln.nbd.ports.first + 1, MAX_LAB_NBD_PORTS) }, (_, i) => kiln.nbd!.ports.first + i) : [];
  const nbdForwards = nbdPorts.map((p) => `,guestfwd=tcp:${GUEST_NBD_ADDRESS}:${p}-cmd:${busybox} nc ${kiln.nbd!.host} ${p}`).join("");
  const args = [
    "-name", m.name,
    "-accel", "tcg",
    ...(m.uefi
      ? [
          "-machine", "q35",
          "-drive", `if=pflash,format=raw,readonly=on,file=${opt(OVMF_CODE)}`,
          "-drive", `if=pflash,format=raw,file=${opt(m.ovmfVars)}`,
          // When iPXE exits ("boot your disk"), OVMF would try its own PXE and HTTP boot options
          // for the NIC before the disk (~20 s here). iPXE's ROM brings its own network stack,
          // so OVMF's is switched off: one boot request, then the disk.
          "-fw_cfg", "name=opt/org.tianocore/IPv4Support,string=no",
          "-fw_cfg", "name=opt/org.tianocore/IPv6Support,string=no",
        ]
      : []),
    "-m", String(m.memoryMb),
    "-smp", "1",
    "-nodefaults",
    "-display", "none",
    "-monitor", "none",
    "-qmp", `unix:${opt(m.qmpSocket)},server=on,wait=off`,
    // A socket the console attaches to (one client at a time; with none, output is only logged),
    // logged to serial.log whether or not anyone is attached.
    "-chardev", `socket,id=serial0,path=${opt(m.serialSocket)},server=on,wait=off,logfile=${opt(m.serialLog)},logappend=on`,
    "-serial", "chardev:serial0",
    // A plain guestfwd carries one connection only; a command per connection carries them all.
    // Exports too (diskless roots, extra disks): a guestfwd per port of KILN_NBD_PORTS, nothing else.
    "-netdev", `user,id=net0,restrict=on,guestfwd=tcp:10.0.2.100:80-cmd:${busybox} nc ${kiln.host} ${kiln.port}${nbdForwards},bootfile=${GUEST_BOOT_URL}/boot/chain.ipxe${m.sshPort ? `,hostfwd=tcp:127.0.0.1:${m.sshPort}-:22` : ""}`,
    "-device", `virtio-net-pci,netdev=net0,mac=${m.mac},bootindex=1`,
    "-drive", `file=${opt(m.disk)},format=raw,if=none,id=disk0`,
    "-device", `virtio-blk-pci,drive=disk0,serial=${m.name},bootindex=2`,
    // After disk0 on the command line, so they enumerate after it (vdb, vdc…).
    ...(m.extraDrives ?? []).flatMap((file, i) => ["-drive", `file=${opt(file)},format=raw,if=none,readonly=on,id=extra${i}`, "-device", `virtio-blk-pci,drive=extra${i},serial=extra${i}`]),
  ];
  return [
    "#!/bin/sh",
    `# Kiln virtual lab machine ${m.name}, ${m.uefi ? "UEFI (OVMF)" : "BIOS (SeaBIOS)"}. Written by \`npm run lab\` at each start.`,
    "# Kiln's qemu power driver runs it to switch the machine on and stops it with QMP \"quit\".",
    `printf '\\n===== %s: ${m.name} powered on =====\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >> ${sh(m.serialLog)}`,
    `exec qemu-system-x86_64 \\\n  ${args.map(sh).join(" ")} \\\n  2>> ${sh(m.qemuLog)}`,
    "",
  ].join("\n");
}

/**
 * Writes a machine's directory: the launch script (always, so flags of this start apply), the
 * sparse disk (made once; grown, never shrunk), the OVMF vars (copied once, for UEFI).
 */
export async function writeLabMachine(m: LabMachine, kiln: LabUplink): Promise<void> {
  await fs.mkdir(m.dir, { recursive: true, mode: 0o750 });
  const size = (await fs.stat(m.disk).catch(() => null))?.size;
  if (size === undefined) await (await fs.open(m.disk, "w")).close();
  if (size === undefined || size < m.diskBytes) await fs.truncate(m.disk, m.diskBytes);
  if (m.uefi && !existsSync(m.ovmfVars)) await fs.copyFile(OVMF_VARS, m.ovmfVars);
  const tmp = `${m.launch}.tmp`;
  await fs.writeFile(tmp, launchScript(m, kiln), { mode: 0o755 });
  await fs.rename(tmp, m.launch);
}

function desiredHost(m: LabMachine, poolId: string) {
  return {
    name: m.name,
    poolId,
    tags: ["qemu", m.uefi ? "uefi" : "bios"],
    cpuCores: 1,
    memoryMb: m.memoryMb,
    disks: [{ name: "vda", sizeBytes: m.diskBytes, serial: m.name, model: "QEMU virtio disk" }],
    notes: `Virtual lab machine (QEMU, software emulation). Serial console: ${m.serialLog}${m.sshPort ? `. Its ssh is forwarded from Kiln's machine: ssh -p ${m.sshPort} <user>@127.0.0.1 (the address it reports, 10.0.2.15, is QEMU's private network)` : ""}`,
    power: { driver: "qemu" as const, params: { qmpSocket: m.qmpSocket, launch: m.launch, serialSocket: m.serialSocket } },
  };
}

export type RegisteredHost = { name: string; id: string | null; outcome: "created" | "updated" | "unchanged" | "skipped"; state: string | null; message?: string };

/** Equal as JSON values, whatever the key order (jsonb gives keys back in its own order). */
function sameJson(a: unknown, b: unknown): boolean {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, x]) => [k, canonical(x)])) : v;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/**
 * The fields the lab owns that differ from the host as stored (an update touches only those).
 * Cores, memory and disks are set when the host is made; after that they are the deploy
 * agent's inventory (457 MB of a 512 MB machine, say), which the lab does not overwrite.
 */
function changedFields(have: HostView, want: ReturnType<typeof desiredHost>): Partial<ReturnType<typeof desiredHost>> {
  const changes: Record<string, unknown> = {};
  if (have.poolId !== want.poolId) changes.poolId = want.poolId;
  if (!sameJson([...have.tags].sort(), [...want.tags].sort())) changes.tags = want.tags;
  if (have.notes !== want.notes) changes.notes = want.notes;
  if (have.power?.driver !== want.power.driver || !sameJson(have.power?.params, want.power.params)) changes.power = want.power;
  return changes;
}

/** Pool `lab`, project `lab` and one host per machine; safe to run at every start. */
export async function registerLab(db: Db, machines: LabMachine[]): Promise<{ poolId: string; projectId: string; hosts: RegisteredHost[] }> {
  const pool =
    (await listPools(db)).find((p) => p.name === LAB_POOL) ??
    (await createPool(db, SYSTEM, { name: LAB_POOL, description: "QEMU machines of the virtual lab (`npm run lab`); they work while the lab runs.", defaultLeaseHours: 4, maxLeaseHours: 72 }));
  const project =
    (await listProjects(db, SYSTEM)).find((p) => p.name === LAB_PROJECT) ??
    (await createProject(db, SYSTEM, { name: LAB_PROJECT, description: "Leases of the virtual lab's machines.", maxLeaseHours: 72 }));

  const existing = (await listHosts(db, SYSTEM, { q: "lab-", per_page: 500 })).data;
  const hosts: RegisteredHost[] = [];
  for (const m of machines) {
    const want = desiredHost(m, pool.id);
    const have = existing.find((h) => h.name === m.name);
    try {
      if (!have) {
        const made = await createHost(db, SYSTEM, { ...want, interfaces: [{ mac: m.mac, name: "net0", isPxe: true }] });
        hosts.push({ name: m.name, id: made.id, outcome: "created", state: made.state });
      } else if (!have.interfaces.some((i) => i.mac === m.mac)) {
        // A host of the same name that is not ours: never taken over.
        hosts.push({ name: m.name, id: have.id, outcome: "skipped", state: have.state, message: `a host named ${m.name} exists without the lab's MAC ${m.mac}; rename or delete it` });
      } else {
        const changes = changedFields(have, want);
        const fields = Object.keys(changes);
        if (fields.length) await updateHost(db, SYSTEM, have.id, changes);
        hosts.push({ name: m.name, id: have.id, outcome: fields.length ? "updated" : "unchanged", state: have.state, message: fields.length ? `changed ${fields.join(", ")}` : undefined });
      }
    } catch (e) {
      if (!isAppError(e)) throw e;
      hosts.push({ name: m.name, id: null, outcome: "skipped", state: null, message: e.message });
    }
  }
  return { poolId: pool.id, projectId: project.id, hosts };
}

export type LabAccount = { email: string; password: string | null; note: string };

/**
 * The account a newcomer signs in with: a researcher (not an administrator) in project `lab`,
 * with a random password kept in `<lab>/account.json` (0600) so each start can print it. A
 * password changed since on the Profile page is left alone; a lost file gets a new password.
 */
export async function ensureLabAccount(db: Db, p: { dataDir: string; projectId: string }): Promise<LabAccount> {
  const file = path.join(labRoot(p.dataDir), "account.json");
  const saved = await fs
    .readFile(file, "utf8")
    .then((s) => JSON.parse(s) as { email?: string; password?: string })
    .catch(() => null);
  const remember = async (password: string) => {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o750 });
    await fs.writeFile(file, JSON.stringify({ email: LAB_ACCOUNT_EMAIL, password }) + "\n", { mode: 0o600 });
  };

  let user = await getUserByEmail(db, LAB_ACCOUNT_EMAIL);
  let password = saved?.email === LAB_ACCOUNT_EMAIL ? (saved.password ?? null) : null;
  let note = "";
  if (!user) {
    password = randomBytes(18).toString("base64url");
    await remember(password);
    await createUserAsAdmin(db, { email: LAB_ACCOUNT_EMAIL, password, name: "Lab newcomer", admin: false });
    user = (await getUserByEmail(db, LAB_ACCOUNT_EMAIL))!;
    note = "created";
  } else if (!password) {
    password = randomBytes(18).toString("base64url");
    await remember(password);
    await updateUser(db, user.id, { passwordHash: await hashPassword(password) });
    note = `new password (${file} was missing)`;
  } else if (!user.passwordHash || !(await verifyPassword(user.passwordHash, password))) {
    password = null;
    note = "its password was changed since the lab made it; use that one";
  }
  const status = getUserStatus(user);
  if (status !== "active") note = [note, `the account is ${status.replace(/_/g, " ")}; an administrator can enable it`].filter(Boolean).join("; ");
  if (!(await getMembership(db, { projectId: p.projectId, userId: user.id }))) {
    await addProjectMember(db, SYSTEM, p.projectId, { userId: user.id, role: "member" });
  }
  return { email: LAB_ACCOUNT_EMAIL, password, note };
}

/**
 * The public image `lab-demo` with a ready version: a small disk that boots `kernelPath` and
 * prints `KILN-BOOTED lab-demo` on the serial console. Made once; found by name afterwards.
 */
export async function ensureLabImage(db: Db, p: { dataDir: string; kernelPath: string }): Promise<{ imageId: string; version: number; created: boolean; marker: string }> {
  const marker = `${BOOTED_PREFIX} ${LAB_IMAGE}`;
  const found = (await listImages(db, SYSTEM, { q: LAB_IMAGE, per_page: 100 })).data.find((i) => i.name === LAB_IMAGE && i.visibility === "public" && i.ownerUserId === null);
  if (found?.latestVersion) return { imageId: found.id, version: found.latestVersion, created: false, marker };
  const image =
    found ??
    (await createImage(db, SYSTEM, {
      name: LAB_IMAGE,
      visibility: "public",
      description: `A tiny disk for the virtual lab: it boots Linux and prints "${marker}" on the serial console, then powers off.`,
    }));
  const out = path.join(labRoot(p.dataDir), `${LAB_IMAGE}.img`);
  await fs.mkdir(path.dirname(out), { recursive: true, mode: 0o750 });
  try {
    await buildBootableImage({ kernelPath: p.kernelPath, outPath: out, marker: LAB_IMAGE });
    const v = await importImageVersion(db, SYSTEM, { imageId: image.id, file: out, notes: "built by `npm run lab` (lab/bootable-image.ts)" });
    return { imageId: image.id, version: v.version, created: true, marker };
  } finally {
    await fs.rm(out, { force: true });
  }
}

/** Whether a QEMU answers on the socket; a monitor that resets the connection is one going away. */
async function isVmRunning(socket: string): Promise<boolean> {
  return (await qmp(socket, "query-status", undefined, 2000).catch(() => null)) !== null;
}

/** Quits every lab machine that is running (QMP "quit") and waits until each is gone; answers their names. */
export async function stopLabMachines(dataDir: string): Promise<string[]> {
  const root = labRoot(dataDir);
  const names = (await fs.readdir(root, { withFileTypes: true }).catch(() => [])).filter((d) => d.isDirectory()).map((d) => d.name);
  const stopped = await Promise.all(
    names.map(async (name) => {
      const socket = path.join(root, name, "qmp.sock");
      if (!existsSync(socket) || !(await isVmRunning(socket))) return null;
      // The answer to "quit" can be lost as QEMU closes the socket; the status below is what counts.
      await qmp(socket, "quit", undefined, 5000).catch(() => {});
      for (const end = Date.now() + 10_000; await isVmRunning(socket); await new Promise((r) => setTimeout(r, 100))) {
        if (Date.now() > end) throw new Error(`lab machine ${name} did not stop on QMP "quit" within 10 s (${socket})`);
      }
      return name;
    }),
  );
  return stopped.filter((n): n is string => n !== null);
}
