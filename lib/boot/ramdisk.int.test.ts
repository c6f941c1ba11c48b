// The deploy ramdisk for real: built by scripts/build-ramdisk.sh (or copied from the build cache),
// booted in QEMU the way iPXE boots it (kernel + initrd + the deploy template's arguments), against
// a small HTTP server standing in for Kiln that hands out a stub agent. The stub reports what it
// sees over the ramdisk's own curl; the machine must reboot (here: QEMU exits) when it ends.
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GUEST_KILN_URL, startVm, waitFor, type Vm } from "@/test/harness/qemu";
import { ensureRamdisk, type RamdiskManifest } from "./ramdisk";

const MAC = "52:54:00:6b:72:01";
const TOKEN = "tok_ramdisk_test_0123456789";
const AGENT_PATH = `/boot/${MAC.replaceAll(":", "-")}/${TOKEN}/agent`;
const MiB = 1024 * 1024;

// Runs inside the ramdisk under its /bin/sh. Each tool the real agent relies on must start
// (unpacked from their Debian packages with the libraries they load); the report goes back through curl, as the agent's do.
const STUB_AGENT = `
echo "KILN-STUB-AGENT started"
tools=""
for t in curl zstd xz gzip sha256sum wipefs blkdiscard dd; do
  if "$t" --help >/dev/null 2>&1 || "$t" --version >/dev/null 2>&1; then tools="$tools $t"; fi
done
{
  echo "url=$KILN_URL"
  echo "mac=$KILN_MAC"
  echo "token=$KILN_TOKEN"
  echo "action=$KILN_ACTION"
  echo "disk=\${KILN_DISK-unset}"
  echo "disks=$(ls /sys/block | tr '\\n' ' ')"
  echo "nics=$(cat /sys/class/net/*/address | tr '\\n' ' ')"
  echo "tools=$tools"
  echo "ca=$(grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt)"
} >/tmp/report
curl -fsS --data-binary @/tmp/report "$KILN_URL/boot/$(echo "$KILN_MAC" | tr : -)/$KILN_TOKEN/report" || echo "KILN-STUB-AGENT report failed"
echo "KILN-STUB-AGENT done"
`;

// A run Kiln cannot follow with a power-off (a wipe on a Wake-on-LAN host): the real agent
// writes "poweroff" into the file the init names once it has reported done.
const POWEROFF_AGENT = `
echo "KILN-STUB-AGENT then-file=$KILN_THEN_FILE"
echo poweroff >"$KILN_THEN_FILE"
`;

type Recorded = { method: string; url: string; body: string };

let dir: string;
let manifest: RamdiskManifest | null;
let server: http.Server;
let port: number;
const requests: Recorded[] = [];
let agentFails = 0;
let agentScript = STUB_AGENT;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-ramdisk-test-"));
  const started = Date.now();
  const lines: string[] = [];
  manifest = await ensureRamdisk({ dir: path.join(dir, "ramdisk"), log: (l) => lines.push(l) });
  // A cold build takes about a minute (and downloads the kernel package once); a cached one is copied.
  console.info(`ramdisk ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${lines.at(-1) ?? ""}`);

  server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", url: req.url ?? "", body });
      if (req.method === "GET" && req.url === AGENT_PATH) {
        if (agentFails > 0) {
          agentFails--;
          res.writeHead(503).end("not yet\n");
          return;
        }
        res.writeHead(200, { "content-type": "text/x-shellscript" }).end(agentScript);
        return;
      }
      if (req.method === "POST" && req.url === AGENT_PATH.replace(/agent$/, "report")) {
        res.writeHead(200).end("ok\n");
        return;
      }
      res.writeHead(404).end("Not found\n");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
}, 600_000);

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

function exited(vm: Vm): Promise<number | null> {
  if (vm.process.exitCode !== null) return Promise.resolve(vm.process.exitCode);
  return new Promise((r) => vm.process.once("exit", (code) => r(code)));
}

function kernelArgs(extra: string): string {
  // What boot/templates/system/deploy-image.ipxe.j2 passes, with Kiln at the guestfwd address.
  return `initrd=initrd.img panic=-1 console=tty0 console=ttyS0,115200 kiln.url=${GUEST_KILN_URL} kiln.mac=${MAC} kiln.token=${TOKEN} ${extra}`.trim();
}

describe("the deploy ramdisk", () => {
  it("was built with a manifest naming its kernel, packages and sizes", async () => {
    expect(manifest).not.toBeNull();
    const m = manifest!;
    expect(m.kernel.package).toMatch(/^linux-image-\d/);
    // Every binary comes from a downloaded package, the agent's tools with their libraries.
    expect(m.packages.map((p) => p.name)).toEqual(expect.arrayContaining([m.kernel.package, "busybox-static", "curl", "libcurl4", "libc6", "zstd", "xz-utils", "util-linux", "fdisk", "coreutils", "ca-certificates"]));
    expect(m.modules).toBeGreaterThan(100);
    const initrd = await fs.readFile(path.join(dir, "ramdisk", "initrd.img"));
    expect(initrd.length).toBe(m.files["initrd.img"].bytes);
    expect(createHash("sha256").update(initrd).digest("hex")).toBe(m.files["initrd.img"].sha256);
    // zstd frame magic (or gzip's) — what the kernel's initramfs unpacker accepts.
    expect(initrd.subarray(0, 4).toString("hex")).toMatch(m.compression === "zstd" ? /^28b52ffd$/ : /^1f8b/);
  });

  it("boots, brings up the NIC with kiln.mac by DHCP, runs the run's agent with KILN_* set, times kiln.bench, and reboots", async () => {
    const work = await fs.mkdtemp(path.join(dir, "vm-"));
    const target = path.join(work, "target.raw");
    const source = path.join(work, "source.raw");
    await fs.writeFile(target, Buffer.alloc(0));
    await fs.truncate(target, 32 * MiB);
    // A recognisable source for the bench's dd: it must land at the start of the target disk.
    const pattern = Buffer.alloc(4 * MiB);
    for (let i = 0; i < pattern.length; i += 4) pattern.writeUInt32LE(i ^ 0x6b696c6e, i);
    await fs.writeFile(source, pattern);
    requests.length = 0;
    agentFails = 1; // the first fetch fails: the init must retry

    const started = Date.now();
    const vm = await startVm({
      mac: MAC,
      kilnPort: port,
      diskPath: target,
      extraDisks: [source],
      direct: {
        kernel: path.join(dir, "ramdisk", "vmlinuz"),
        initrd: path.join(dir, "ramdisk", "initrd.img"),
        append: kernelArgs("kiln.action=deploy kiln.disk=vda kiln.bench=/dev/vdb"),
      },
    });
    try {
      const code = await Promise.race([
        exited(vm),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the VM did not reboot within 90 s:\n${vm.serial().slice(-4000)}`)), 90_000)),
      ]);
      const seconds = (Date.now() - started) / 1000;
      const serial = vm.serial();
      console.info(`ramdisk boot to reboot: ${seconds.toFixed(1)} s`);
      expect(code, serial.slice(-3000)).toBe(0);

      // The init's own lines, in order, all prefixed.
      const own = serial.split(/\r?\n/).filter((l) => l.startsWith("kiln-ramdisk:"));
      expect(own.join("\n")).toMatch(/network up on eth0: 10\.0\.2\.15\/24[\s\S]*fetching the agent .* failed \(attempt 1 of 5\)[\s\S]*running the deploy agent[\s\S]*the agent exited with status 0[\s\S]*KILN-BENCH dd bytes=4194304 seconds=\d+\.\d\d[\s\S]*rebooting$/);
      expect(serial).toContain("KILN-STUB-AGENT done");
      // The token is never printed by the init (the kernel echoes its command line, not us).
      expect(own.some((l) => l.includes(TOKEN))).toBe(false);

      const report = requests.find((r) => r.method === "POST");
      expect(report, JSON.stringify(requests)).toBeDefined();
      const fields = Object.fromEntries(report!.body.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
      expect(fields).toMatchObject({ url: GUEST_KILN_URL, mac: MAC, token: TOKEN, action: "deploy", disk: "vda" });
      expect(fields.disks!.split(" ")).toEqual(expect.arrayContaining(["vda", "vdb"]));
      expect(fields.nics).toContain(MAC);
      expect(fields.tools!.trim().split(" ")).toEqual(["curl", "zstd", "xz", "gzip", "sha256sum", "wipefs", "blkdiscard", "dd"]);
      expect(Number(fields.ca)).toBeGreaterThan(50);
      expect(requests.filter((r) => r.url === AGENT_PATH).length).toBe(2);

      // kiln.bench copied the source disk onto the target (vda) with dd.
      const head = Buffer.alloc(pattern.length);
      const fh = await fs.open(target, "r");
      await fh.read(head, 0, head.length, 0);
      await fh.close();
      expect(head.equals(pattern)).toBe(true);
      expect(seconds).toBeLessThan(60);
    } finally {
      await vm.stop();
    }
  }, 120_000);

  it("powers the machine off instead of rebooting when the agent asks for it (KILN_THEN_FILE)", async () => {
    const work = await fs.mkdtemp(path.join(dir, "vm-"));
    const target = path.join(work, "target.raw");
    await fs.writeFile(target, Buffer.alloc(0));
    await fs.truncate(target, 8 * MiB);
    requests.length = 0;
    agentScript = POWEROFF_AGENT;
    const vm = await startVm({
      mac: MAC,
      kilnPort: port,
      diskPath: target,
      direct: { kernel: path.join(dir, "ramdisk", "vmlinuz"), initrd: path.join(dir, "ramdisk", "initrd.img"), append: kernelArgs("kiln.action=wipe") },
    });
    try {
      const code = await Promise.race([
        exited(vm),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the VM did not power off within 90 s:\n${vm.serial().slice(-4000)}`)), 90_000)),
      ]);
      const serial = vm.serial();
      expect(code, serial.slice(-3000)).toBe(0);
      expect(serial).toContain("KILN-STUB-AGENT then-file=/run/kiln-then");
      const own = serial.split(/\r?\n/).filter((l) => l.startsWith("kiln-ramdisk:"));
      expect(own.join("\n")).toMatch(/the agent exited with status 0[\s\S]*powering off$/);
      expect(own.some((l) => l.includes("rebooting"))).toBe(false);
      // The kernel's own last word: a power-off, not a restart.
      expect(serial).toContain("reboot: Power down");
      expect(serial).not.toContain("reboot: Restarting system");
    } finally {
      agentScript = STUB_AGENT;
      await vm.stop();
    }
  }, 120_000);

  it("says why and reboots when the run's agent cannot be fetched (Kiln does not know the run)", async () => {
    const vm = await startVm({
      mac: MAC,
      kilnPort: port,
      direct: {
        kernel: path.join(dir, "ramdisk", "vmlinuz"),
        initrd: path.join(dir, "ramdisk", "initrd.img"),
        // Another token: the stub answers 404, as Kiln does for a run that has ended.
        append: kernelArgs("kiln.action=wipe").replace(TOKEN, "tok_unknown_run_0123456789"),
      },
    });
    try {
      const line = await waitFor(async () => vm.serial().match(/kiln-ramdisk: ERROR: .*/)?.[0], 60_000, vm, "the init's error");
      expect(line).toContain("Kiln does not know this run");
      expect(vm.serial()).toContain("kiln-ramdisk: rebooting in 30 seconds");
    } finally {
      await vm.stop();
    }
  }, 90_000);
});
