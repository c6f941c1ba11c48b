// `npm run lab [-- --machines 3 --uefi --memory 512 --disk-gb 4]`: the whole portal, started
// exactly as `npm start` starts it (scripts/start.ts), plus a virtual lab — QEMU machines in
// pool `lab` with the `qemu` power driver, an account to sign in with, and a demo image to
// deploy (lab/lab.ts). The machines start switched off; Kiln switches them on when a run
// needs them. Ctrl-C stops the machines (QMP quit), then the portal.
import { existsSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { getAppDb } from "@/lib/db";
import { getEnv, getProcessEnv, setEnvForProcess } from "@/lib/env";
import {
  ensureLabAccount,
  ensureLabImage,
  GUEST_BOOT_URL,
  GUEST_NBD_ADDRESS,
  LAB_NBD_PORTS,
  MAX_LAB_NBD_PORTS,
  LAB_IMAGE,
  LAB_POOL,
  labRoot,
  missingLabDependencies,
  planLabMachines,
  registerLab,
  stopLabMachines,
  writeLabMachine,
  type LabAccount,
  type LabMachine,
  type RegisteredHost,
} from "@/lab/lab";
import { LAB_CLOUD_IMAGE, offerBuiltCloudImage } from "@/lab/cloud-image";
import { startKiln } from "./start";

const USAGE = `Usage: npm run lab [-- --machines N] [--uefi] [--memory MB] [--disk-gb GB] [--dev]
  --machines N   lab machines lab-01… (default 3)
  --uefi         UEFI firmware (OVMF) instead of BIOS (SeaBIOS)
  --memory MB    memory of each machine (default 512)
  --disk-gb GB   size of each machine's sparse disk (default 4)
  --dev          Next.js in development mode, as npm run dev`;

function say(line: string): void {
  process.stdout.write(`[lab] ${line}\n`);
}

function fail(message: string): never {
  process.stderr.write(`[lab] ${message}\n`);
  process.exit(1);
}

/** The address a machine's guestfwd connects to: Kiln's own, or loopback when it listens everywhere. */
function kilnAddressForVms(host: string): string {
  return ["0.0.0.0", "::", "[::]", ""].includes(host) ? "127.0.0.1" : host;
}

function relative(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith("..") ? r : p;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        machines: { type: "string", default: "3" },
        uefi: { type: "boolean", default: false },
        memory: { type: "string", default: "512" },
        "disk-gb": { type: "string", default: "4" },
        dev: { type: "boolean", default: false },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }

  let env;
  try {
    env = getEnv();
  } catch (e) {
    fail((e as Error).message);
  }
  const spec = { count: Number(values.machines), uefi: values.uefi, memoryMb: Number(values.memory), diskGb: Number(values["disk-gb"]) };
  let machines: LabMachine[];
  try {
    machines = planLabMachines(env.dataDir, spec);
  } catch (e) {
    fail((e as Error).message);
  }
  const missing = missingLabDependencies(spec, getProcessEnv().PATH ?? "");
  if (missing.length) fail(`The lab needs ${missing.join("; ")}. Install them with: bash scripts/ensure-deps.sh (as root)`);

  // The machines know Kiln only as 10.0.2.100, so every boot script must name that address.
  if (!env.KILN_BOOT_URL) setEnvForProcess({ KILN_BOOT_URL: GUEST_BOOT_URL });
  else if (env.bootUrl !== GUEST_BOOT_URL) say(`warning: KILN_BOOT_URL is ${env.bootUrl}; lab machines reach Kiln only at ${GUEST_BOOT_URL}, so their boots will fail. Unset it for the lab.`);
  // The lab prints a password: keep the portal on this machine unless told otherwise.
  if (!getProcessEnv().KILN_HOST) setEnvForProcess({ KILN_HOST: "127.0.0.1" });
  // Diskless roots and extra disks: machines dial exports at 10.0.2.101 on a known port range,
  // each port forwarded to qemu-nbd on this machine (restricted network: nothing else is reachable).
  if (!getProcessEnv().KILN_NBD_PORTS) setEnvForProcess({ KILN_NBD_PORTS: LAB_NBD_PORTS });
  if (!getProcessEnv().KILN_NBD_ADDRESS) setEnvForProcess({ KILN_NBD_ADDRESS: GUEST_NBD_ADDRESS });
  else if (getEnv().nbdAddress !== GUEST_NBD_ADDRESS) say(`warning: KILN_NBD_ADDRESS is ${getEnv().nbdAddress}; lab machines reach exports only at ${GUEST_NBD_ADDRESS}. Unset it for the lab.`);
  const ports = getEnv().nbdPortRange!;
  if (ports.last - ports.first + 1 > MAX_LAB_NBD_PORTS) say(`warning: KILN_NBD_PORTS has more than ${MAX_LAB_NBD_PORTS} ports; lab machines reach only the first ${MAX_LAB_NBD_PORTS}`);
  // The machines' plane: the lab's machines talk to the boot server, not the portal.
  const kiln = {
    host: kilnAddressForVms(getEnv().KILN_HOST),
    port: env.bootPort,
    nbd: { host: kilnAddressForVms(getEnv().KILN_NBD_BIND_ADDRESS), ports },
  };

  let hosts: RegisteredHost[] = [];
  let account: LabAccount | null = null;
  let image: { created: boolean; marker: string } | null = null;
  let cloudImage = false;

  await startKiln({
    async prepare() {
      const db = getAppDb();
      // Machines left running by a lab that was killed rather than stopped: stop them, as Ctrl-C would have.
      const stale = await stopLabMachines(env.dataDir);
      if (stale.length) say(`stopped ${stale.join(", ")}, still running from an earlier lab`);
      for (const m of machines) await writeLabMachine(m, kiln);
      const registered = await registerLab(db, machines);
      hosts = registered.hosts;
      for (const h of hosts.filter((h) => h.outcome !== "unchanged")) say(`${h.name}: ${h.outcome}${h.message ? ` (${h.message})` : ""}`);
      account = await ensureLabAccount(db, { dataDir: env.dataDir, projectId: registered.projectId });

      // The demo image boots the deploy ramdisk's kernel (the launcher has just made sure of the
      // ramdisk). Neither is needed to lease, so a failure here is said and the lab runs on.
      try {
        const kernelPath = path.join(getEnv().ramdiskDir, "vmlinuz");
        if (!existsSync(kernelPath)) throw new Error(`${kernelPath} is missing: the deploy ramdisk was not built (see above)`);
        const made = await ensureLabImage(db, { dataDir: env.dataDir, kernelPath });
        image = made;
        say(made.created ? `image ${LAB_IMAGE}: built and registered (version ${made.version})` : `image ${LAB_IMAGE}: version ${made.version} is ready`);
      } catch (e) {
        say(`warning: no demo image (${(e as Error).message}); lease and upload an image of your own instead`);
      }
      // Debian with cloud-init, when this machine has built it (the lab does not: root, minutes).
      try {
        const cloud = await offerBuiltCloudImage(db, { projectRoot: process.cwd() });
        cloudImage = cloud !== null;
        if (cloud) say(`image ${LAB_CLOUD_IMAGE}: ${cloud.created ? "imported" : "ready"} (version ${cloud.version})`);
        else say(`image ${LAB_CLOUD_IMAGE}: not built on this machine (sudo bash scripts/build-cloud-image.sh, a few minutes, then start the lab again)`);
      } catch (e) {
        say(`warning: ${LAB_CLOUD_IMAGE} not offered (${(e as Error).message})`);
      }
    },

    async ready() {
      const url = getEnv().baseUrl;
      const firmware = spec.uefi ? "UEFI" : "BIOS";
      say("");
      say(`Virtual lab: ${machines.length} QEMU machine${machines.length === 1 ? "" : "s"} in pool "${LAB_POOL}" (${firmware}, ${spec.memoryMb} MB, ${spec.diskGb} GB disk, software emulation), switched off until a run needs them.`);
      for (const m of machines) {
        const h = hosts.find((x) => x.name === m.name);
        say(`  ${m.name}  ${m.mac}  ${(h?.state ?? "not registered").padEnd(11)}  serial console: ${relative(m.serialLog)}${m.sshPort ? `  ssh: -p ${m.sshPort} 127.0.0.1` : ""}`);
      }
      say("");
      say("Try it:");
      if (account?.password) say(`  1. Open ${url} and sign in as ${account.email}, password ${account.password}`);
      else say(`  1. Open ${url} and sign in as ${account?.email ?? "(no lab account)"}${account?.note ? ` (${account.note})` : ""}`);
      say(`     (a researcher in project "lab"; the password is kept in ${relative(path.join(labRoot(env.dataDir), "account.json"))})`);
      say(`  2. Get machines → pool "${LAB_POOL}", 1 machine → Get machines. Open the host from its lease card.`);
      say(`  3. Reinstall… → Deploy an image → ${image ? LAB_IMAGE : "your image"} → Review… → Erase the disk and deploy. Kiln switches the machine on and shows each step.`);
      say(`  4. Watch its console: the host page's Console card → Connect (live, and you can type into it),`);
      say(`     or tail -f ${relative(path.join(labRoot(env.dataDir), "lab-01", "serial.log"))} (or the lab-NN you got).`);
      say(`     A deploy takes a few minutes under software emulation; then the machine boots its disk${image ? ` and prints "${image.marker}"` : ""}.`);
      if (cloudImage) say(`  5. Or deploy ${LAB_CLOUD_IMAGE} with "cloud-init basics" under "cloud-init on first boot" (add your SSH key in your profile first): the run ends when cloud-init reports done (docs/cloud-init.md);`);
      if (cloudImage) say(`     then log in with your key: ssh -p ${machines[0]?.sshPort ?? "220NN"} kiln@127.0.0.1 for lab-01 (22000 + the machine's number; QEMU forwards it to the machine's port 22).`);
      say("Ctrl-C stops the lab machines, then Kiln.");
    },

    async beforeStop() {
      const stopped = await stopLabMachines(env.dataDir);
      say(stopped.length ? `stopped ${stopped.join(", ")}` : "no lab machine was running");
    },
  });
}

main().catch((e) => fail(`The lab failed to start: ${(e as Error).message}`));
