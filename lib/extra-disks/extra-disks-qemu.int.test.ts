// An extra disk inside a real machine: Kiln's deploy ramdisk (scripts/build-ramdisk.sh) booted in
// QEMU (BIOS, TCG) with the kernel argument Kiln's templates render for the host
// (`{{ kiln.extra_disks_arg }}`), its network restricted to a stand-in for Kiln and the disk's
// NBD export (qemu-nbd on 127.0.0.1, reached as 10.0.2.101). The ramdisk attaches the disk as
// /dev/nbd1; a stub agent reports its size, writes a marker through it, and the marker is then
// read from the sparse file on the host. A second disk named with a wrong export name is refused.
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getHostRow } from "@/db/queries/hosts";
import { listLeaseDiskRows } from "@/db/queries/lease-disks";
import { createLease } from "@/lib/leases/leases";
import { loadBootContext } from "@/lib/templates/deployment-rendering";
import { ensureRamdisk } from "@/lib/boot/ramdisk";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { as, seedLeaseWorld } from "@/test/harness/inventory";
import { GUEST_KILN_URL, startVm, waitFor, type Vm } from "@/test/harness/qemu";
import { createLeaseDisks } from "./extra-disks";
import { createNbdDiskExporter } from "./exporter";
import { reconcileLeaseDisks } from "./reconcile";

const t = await useTestDb();
const MAC = "52:54:00:6b:72:d1";
const TOKEN = "tok_extra_disk_test_0123456789";
const BASE = `/boot/${MAC.replaceAll(":", "-")}/${TOKEN}`;
const GUEST_NBD = "10.0.2.101";
const MARKER = "KILN-EXTRA-DISK-MARKER-7f3a";

// Runs in the ramdisk after it has attached the extra disks: what the machine sees of them.
const STUB_AGENT = `
{
  for b in nbd1 nbd2; do echo "$b=$(($(cat /sys/block/$b/size) * 512))"; done
  printf '%s' '${MARKER}' | dd of=/dev/nbd1 bs=4096 conv=sync,fsync 2>/dev/null && echo "wrote=yes"
  echo "readback=$(dd if=/dev/nbd1 bs=${MARKER.length} count=1 iflag=direct 2>/dev/null)"
} >/tmp/report 2>&1
curl -fsS --data-binary @/tmp/report "$KILN_URL${BASE}/report"
`;

let dir: string;
let server: http.Server;
let port: number;
let report: string | null = null;
const exporter = createNbdDiskExporter({ bindAddress: "127.0.0.1", address: GUEST_NBD });
const vms: Vm[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-extra-disk-vm-"));
  setTestEnvDefaults({ KILN_EXTRA_DISKS_DIR: path.join(dir, "disks") });
  await ensureRamdisk({ dir: path.join(dir, "ramdisk"), log: () => {} });
  server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      if (req.method === "GET" && req.url === `${BASE}/agent`) return void res.writeHead(200, { "content-type": "text/x-shellscript" }).end(STUB_AGENT);
      if (req.method === "POST" && req.url === `${BASE}/report`) {
        report = body;
        return void res.writeHead(200).end("ok\n");
      }
      res.writeHead(404).end("Not found\n");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
}, 600_000);

afterAll(async () => {
  for (const vm of vms) await vm.stop();
  await exporter.stopAll();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe("an extra disk in a real machine", () => {
  it("is attached by the ramdisk from the rendered kernel argument as /dev/nbd1 with the asked size, and what the machine writes lands in the file; a wrong export name attaches nothing", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const ann = w.members[0]![0]!;
    const lease = await createLease(t.db, as(ann), { poolId: w.pool.id, count: 1 });
    const hostId = lease.hosts[0]!.id;
    await createLeaseDisks(t.db, as(ann), lease.id, { hostId, sizeGb: 0.1 });
    await reconcileLeaseDisks(t.db, exporter);
    const [disk] = await listLeaseDiskRows(t.db, { leaseId: lease.id, live: true });
    expect(disk).toMatchObject({ state: "ready", exportAddress: GUEST_NBD });

    // The kernel argument exactly as the host's templates get it.
    const context = (await loadBootContext(t.db, { host: (await getHostRow(t.db, hostId))!, mac: null, deployment: null, token: null })) as { kiln: { extra_disks_arg: string } };
    const arg = context.kiln.extra_disks_arg;
    expect(arg).toBe(`kiln.disks=${GUEST_NBD}:${disk!.exportPort}/${disk!.exportName}`);
    // A second disk on the same server under a name that is not the secret: refused by the server.
    const withForeign = `${arg},${GUEST_NBD}:${disk!.exportPort}/kiln-not-the-secret`;

    const ramdisk = path.join(dir, "ramdisk");
    const vm = await startVm({
      mac: MAC,
      kilnPort: port,
      memoryMb: 384,
      guestForwards: [{ address: GUEST_NBD, port: disk!.exportPort!, hostPort: disk!.exportPort! }],
      direct: {
        kernel: path.join(ramdisk, "vmlinuz"),
        initrd: path.join(ramdisk, "initrd.img"),
        append: `initrd=initrd.img panic=-1 console=ttyS0,115200 kiln.url=${GUEST_KILN_URL} kiln.mac=${MAC} kiln.token=${TOKEN} kiln.action=deploy ${withForeign}`,
      },
    });
    vms.push(vm);
    const got = await waitFor(async () => report, 150_000, vm, "the stub agent's report");
    const lines = Object.fromEntries(got.trim().split("\n").map((l) => l.split("=", 2) as [string, string]));
    expect(lines, vm.serial()).toMatchObject({ nbd1: String(disk!.sizeBytes), nbd2: "0", wrote: "yes", readback: MARKER });
    expect(vm.serial()).toContain(`extra disk 1 attached as /dev/nbd1 from ${GUEST_NBD}:${disk!.exportPort} (${disk!.sizeBytes} bytes)`);
    expect(vm.serial()).toMatch(/extra disk 2 from 10\.0\.2\.101:\d+ could not be attached/);
    // The ramdisk never prints the secret (the kernel echoes its own command line, as it does kiln.token:
    // the console is the holder's to see).
    expect(vm.serial().split("\n").filter((l) => l.startsWith("kiln-ramdisk:")).join("\n")).not.toContain(disk!.exportName);

    // From the host: the marker is in the sparse file, the rest still unallocated.
    const file = await fs.readFile(disk!.path);
    expect(file.subarray(0, MARKER.length).toString()).toBe(MARKER);
    const st = await fs.stat(disk!.path);
    expect(st.size).toBe(disk!.sizeBytes);
    expect(st.blocks * 512).toBeLessThan(1024 * 1024);
  }, 240_000);
});
