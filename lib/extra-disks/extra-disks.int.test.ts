// Extra disks for a lease against a real PostgreSQL and real qemu-nbd exports (127.0.0.1): asked
// for within the quotas and refused beyond them, the holder's (and admins') alone, exported under a
// secret name that only the host's own templates carry, wiped at release — and the reconciler
// mends a crash between a commit and the file work.
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLeaseDiskRow, insertLeaseDisks, listLeaseDiskRows } from "@/db/queries/lease-disks";
import { releaseLeaseHosts, updateLeaseRow } from "@/db/queries/leases";
import { projectStorageBytes, userStorageBytes } from "@/db/queries/images";
import { listAudit } from "@/db/queries/audit";
import { probeNbdExport } from "@/lib/exports/nbd";
import { createLease, handOverLease, releaseLease } from "@/lib/leases/leases";
import { advanceLeaseEnds } from "@/lib/leases/staged-end";
import { updateProject } from "@/lib/projects/projects";
import { previewTemplate } from "@/lib/templates/templates";
import { loadBootContext } from "@/lib/templates/deployment-rendering";
import { getHostRow } from "@/db/queries/hosts";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { expectAppError } from "@/test/harness/fixtures";
import { as, seedLeaseWorld } from "@/test/harness/inventory";
import { createLeaseDisks, deleteLeaseDisk, diskBytesOf, listLeaseDisks } from "./extra-disks";
import { createNbdDiskExporter } from "./exporter";
import { reconcileLeaseDisks } from "./reconcile";

const run = promisify(execFile);
const t = await useTestDb();
const MIB = 1024 * 1024;
let dir: string;
const exporter = createNbdDiskExporter({ bindAddress: "127.0.0.1", address: "127.0.0.1" });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "kiln-extra-disks-"));
  setTestEnvDefaults({ KILN_EXTRA_DISKS_DIR: dir, KILN_EXTRA_DISKS_PER_HOST: "3", KILN_EXTRA_DISK_MAX_GB: "1", KILN_STORAGE_QUOTA_PER_USER_GB: "0.5" });
});
afterAll(async () => {
  await exporter.stopAll();
  await rm(dir, { recursive: true, force: true });
});

const reconcile = () => reconcileLeaseDisks(t.db, exporter);
const exists = (file: string) => stat(file).then(() => true, () => false);

/** A world of one pool, two projects with two members each; the first member of project 0 leases two hosts. */
async function world() {
  const w = await seedLeaseWorld(t.db, { hosts: 3, projects: 2, membersPerProject: 2 });
  const [ann, bob] = w.members[0] as [NonNullable<(typeof w.members)[0][0]>, NonNullable<(typeof w.members)[0][0]>];
  const [cat] = w.members[1]!;
  const lease = await createLease(t.db, as(ann), { poolId: w.pool.id, projectId: w.projects[0]!.id, count: 2 });
  const other = await createLease(t.db, as(cat!), { poolId: w.pool.id, projectId: w.projects[1]!.id, count: 1 });
  return { w, ann, bob, cat: cat!, lease, other, hostA: lease.hosts[0]!.id, hostB: lease.hosts[1]!.id, otherHost: other.hosts[0]!.id };
}

describe("extra disks for a lease", () => {
  it("makes sparse files of the asked size, exports each under its own secret name, and shows them to the host's templates only", async () => {
    const { w, ann, cat, lease, hostA, otherHost } = await world();
    const created = await createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostA, count: 2, sizeGb: 0.064 });
    expect(created.data.map((d) => [d.name, d.state, d.sizeBytes])).toEqual([
      ["disk1", "creating", diskBytesOf(0.064)],
      ["disk2", "creating", diskBytesOf(0.064)],
    ]);
    expect(diskBytesOf(0.064) % MIB).toBe(0);
    // The secret is never in an API answer.
    expect(JSON.stringify(created)).not.toMatch(/kiln-[A-Za-z0-9_-]{40,}/);

    expect((await reconcile()).made).toBe(2);
    const rows = await listLeaseDiskRows(t.db, { leaseId: lease.id, live: true });
    for (const r of rows) {
      const s = await stat(r.path);
      expect(s.size).toBe(r.sizeBytes);
      // Sparse: nothing allocated.
      expect(s.blocks * 512).toBeLessThan(MIB);
      expect(r.state).toBe("ready");
      expect(await probeNbdExport("127.0.0.1", r.exportPort!, r.exportName)).toBe("ok");
    }
    // Each disk its own export: disk1's port does not serve disk2's name, nor a guessed or empty one.
    const [d1, d2] = rows as [(typeof rows)[0], (typeof rows)[0]];
    expect(d1.exportPort).not.toBe(d2.exportPort);
    expect(await probeNbdExport("127.0.0.1", d1.exportPort!, d2.exportName)).toBe("unknown");
    expect(await probeNbdExport("127.0.0.1", d1.exportPort!, "")).toBe("unknown");
    expect(await probeNbdExport("127.0.0.1", d1.exportPort!, `kiln-${"A".repeat(43)}`)).toBe("unknown");
    // What qemu-img sees through the export with the name: a raw disk of the asked size.
    const { stdout } = await run("qemu-img", ["info", "--output=json", `nbd://127.0.0.1:${d1.exportPort}/${d1.exportName}`]);
    expect(JSON.parse(stdout)["virtual-size"]).toBe(d1.sizeBytes);
    await expect(run("qemu-img", ["info", `nbd://127.0.0.1:${d1.exportPort}/wrong-name`])).rejects.toThrow();

    // A second run changes nothing.
    expect(await reconcile()).toMatchObject({ made: 0, wiped: 0, failed: 0 });

    // The template preview of the host shows them (names, sizes, where, and the kernel argument).
    const preview = await previewTemplate(t.db, as(ann), {
      hostId: hostA,
      source: "{% for d in extra_disks %}{{ d.name }} {{ d.size }} {{ d.device }} {{ d.nbd.uri }}\n{% endfor %}{{ kiln.extra_disks_arg }}",
    });
    expect(preview.ok).toBe(true);
    const output = (preview as { output: string }).output;
    expect(output).toContain(`disk1 ${d1.sizeBytes} /dev/nbd1 nbd://127.0.0.1:${d1.exportPort}/${d1.exportName}\n`);
    expect(output).toContain(`disk2 ${d2.sizeBytes} /dev/nbd2 nbd://127.0.0.1:${d2.exportPort}/${d2.exportName}\n`);
    expect(output).toContain(`kiln.disks=127.0.0.1:${d1.exportPort}/${d1.exportName},127.0.0.1:${d2.exportPort}/${d2.exportName}`);
    expect((preview as { variables: { name: string }[] }).variables.map((v) => v.name)).toContain("extra_disks");

    // Another project's machine: its templates carry none of them (and its holder cannot preview this host).
    const otherContext = await loadBootContext(t.db, { host: (await getHostRow(t.db, otherHost))!, mac: null, deployment: null, token: null });
    expect(otherContext.extra_disks).toEqual([]);
    expect(JSON.stringify(otherContext)).not.toContain(d1.exportName);
    await expectAppError(previewTemplate(t.db, as(cat), { hostId: hostA, source: "{{ extra_disks }}" }), "not_found");

    // Audited with who asked.
    const { rows: audit } = await listAudit(t.db, { action: "lease.disk.create", limit: 10, offset: 0 });
    expect(audit.some((a) => a.targetId === lease.id && a.actorUserId === ann.id && /disk1, disk2/.test(a.summary))).toBe(true);
    void w;
  });

  it("refuses more disks than a host may have, a disk over the size limit, and what would exceed the holder's or the project's storage quota — saying which and how much", async () => {
    const { w, ann, lease, hostA, hostB } = await world();
    await createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostA, count: 2, sizeGb: 0.01 });
    const many = await expectAppError(createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostA, count: 2, sizeGb: 0.01 }), "quota_exceeded");
    expect(many.message).toBe("A host may have at most 3 extra disks; this one has 2 and you asked for 2 more. Delete one first, or ask for fewer.");
    expect(many.status).toBe(403);

    const big = await expectAppError(createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostB, sizeGb: 2 }), "validation");
    expect(big.message).toBe("A disk can be at most 1 GB on this Kiln; you asked for 2 GB.");
    await expectAppError(createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostB, sizeGb: 0 }), "validation");
    await expectAppError(createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostB, sizeGb: 0.1, count: 0 }), "validation");

    // The holder's quota is 0.5 GB (KILN_STORAGE_QUOTA_PER_USER_GB), images and disks together, full size.
    const used = await userStorageBytes(t.db, ann.id);
    expect(used).toBe(2 * diskBytesOf(0.01));
    const over = await expectAppError(createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostB, count: 1, sizeGb: 0.49 }), "quota_exceeded");
    expect(over.message).toBe("A disk of 0.491 GB (490733568 bytes, counted in full although the file is sparse) would exceed your storage quota: your images and disks use 0.021 GB of 0.500 GB, 0.479 GB free. Ask for smaller or fewer disks, delete some, or ask an administrator.");
    const two = await expectAppError(createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostB, count: 2, sizeGb: 0.25 }), "quota_exceeded");
    expect(two.message).toMatch(/^2 disks of 0\.251 GB each \(0\.501 GB, 501219328 bytes in all, counted in full although the files are sparse\) would exceed your storage quota/);
    expect(over.details).toMatchObject({ quota: "user", usedBytes: used, limitBytes: 500_000_000 });

    // The project's quota (whole GB) counts every member's disks and images.
    await updateProject(t.db, w.adminActor, w.projects[0]!.id, { maxStorageGb: 1 });
    setTestEnvDefaults({ KILN_STORAGE_QUOTA_PER_USER_GB: "100" });
    try {
      await createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostB, count: 1, sizeGb: 0.9 });
      const project = await expectAppError(createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostB, count: 1, sizeGb: 0.1 }), "quota_exceeded");
      expect(project.message).toMatch(new RegExp(`would exceed the storage quota of project ${w.projects[0]!.name}: its images and disks use 0\\.922 GB of 1\\.000 GB, 0\\.078 GB free\\.$`));
      expect(await projectStorageBytes(t.db, w.projects[0]!.id)).toBe(2 * diskBytesOf(0.01) + diskBytesOf(0.9));
    } finally {
      setTestEnvDefaults({ KILN_STORAGE_QUOTA_PER_USER_GB: "0.5" });
    }

    // Switched off.
    setTestEnvDefaults({ KILN_EXTRA_DISKS_PER_HOST: "0" });
    try {
      expect((await expectAppError(createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostB, sizeGb: 0.01 }), "forbidden")).message).toMatch(/switched off/);
    } finally {
      setTestEnvDefaults({ KILN_EXTRA_DISKS_PER_HOST: "3" });
    }
  });

  it("lets only the lease's holder or an admin ask for, list and delete disks, and only for hosts of an active lease", async () => {
    const { w, ann, bob, cat, lease, other, hostA, otherHost } = await world();
    // A member of the same project who does not hold the lease, and another project's holder: 404, as for the lease itself.
    for (const who of [bob, cat]) {
      expect((await expectAppError(createLeaseDisks(t.db, as(who), lease.id, { hostId: hostA, sizeGb: 0.01 }), "not_found")).message).toBe("That lease does not exist.");
      await expectAppError(listLeaseDisks(t.db, as(who), lease.id), "not_found");
    }
    // A host of another lease, named on this one.
    expect((await expectAppError(createLeaseDisks(t.db, as(ann), lease.id, { hostId: otherHost, sizeGb: 0.01 }), "validation")).message).toBe("That host is not held under this lease.");
    await expectAppError(createLeaseDisks(t.db, as(cat), other.id, { hostId: hostA, sizeGb: 0.01 }), "validation");

    const mine = await createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostA, sizeGb: 0.01 });
    const byAdmin = await createLeaseDisks(t.db, w.adminActor, lease.id, { hostId: hostA, sizeGb: 0.01 });
    expect(byAdmin.data[0]!.name).toBe("disk2");
    // Charged to the holder, also when an admin asked.
    expect(await userStorageBytes(t.db, ann.id)).toBe(2 * diskBytesOf(0.01));
    expect((await listLeaseDisks(t.db, as(ann), lease.id)).data).toHaveLength(2);

    await expectAppError(deleteLeaseDisk(t.db, as(bob), lease.id, mine.data[0]!.id), "not_found");
    await expectAppError(deleteLeaseDisk(t.db, as(cat), other.id, mine.data[0]!.id), "not_found");
    const deleted = await deleteLeaseDisk(t.db, as(ann), lease.id, mine.data[0]!.id);
    expect(deleted.state).toBe("wiping");
    await expectAppError(deleteLeaseDisk(t.db, as(ann), lease.id, mine.data[0]!.id), "conflict");
    await deleteLeaseDisk(t.db, w.adminActor, lease.id, byAdmin.data[0]!.id);

    // Once released: no new disks.
    await releaseLease(t.db, as(ann), lease.id);
    expect((await expectAppError(createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostA, sizeGb: 0.01 }), "conflict")).message).toMatch(/already been released/);
  });

  it("wipes a lease's disks at release: exports stopped, files deleted, quota freed, and the next holder's templates see nothing", async () => {
    const { ann, lease, hostA, hostB } = await world();
    await createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostA, count: 2, sizeGb: 0.01 });
    await createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostB, count: 1, sizeGb: 0.01 });
    await reconcile();
    const before = await listLeaseDiskRows(t.db, { leaseId: lease.id, live: true });
    expect(before.map((r) => r.state)).toEqual(["ready", "ready", "ready"]);
    // Write into one, through the export: the bytes are really there until the wipe.
    const d = before[0]!;
    await run("qemu-io", ["-f", "raw", `nbd://127.0.0.1:${d.exportPort}/${d.exportName}`, "-c", "write -P 0x6b 0 65536"]);
    expect((await stat(d.path)).blocks * 512).toBeGreaterThanOrEqual(65536);

    await releaseLease(t.db, as(ann), lease.id);
    expect((await listLeaseDiskRows(t.db, { leaseId: lease.id, live: true })).map((r) => r.state)).toEqual(["wiping", "wiping", "wiping"]);
    // Templates stop carrying them at once, before the worker has run.
    const ctx = await loadBootContext(t.db, { host: (await getHostRow(t.db, hostA))!, mac: null, deployment: null, token: null });
    expect(ctx.extra_disks).toEqual([]);

    expect((await reconcile()).wiped).toBe(3);
    for (const r of before) {
      expect(await exists(r.path)).toBe(false);
      await expect(probeNbdExport("127.0.0.1", r.exportPort!, r.exportName, 1000)).rejects.toThrow();
      const row = (await getLeaseDiskRow(t.db, r.id))!;
      expect(row).toMatchObject({ state: "wiped", exportPort: null });
      expect(row.wipedAt).toBeInstanceOf(Date);
    }
    expect(await userStorageBytes(t.db, ann.id)).toBe(0);
    expect((await listLeaseDisks(t.db, as(ann), lease.id, { history: "true" })).data.map((x) => x.state)).toEqual(["wiped", "wiped", "wiped"]);
    const { rows: audit } = await listAudit(t.db, { action: "lease.disk.wiped", limit: 50, offset: 0 });
    expect(audit.filter((a) => a.targetId === lease.id)).toHaveLength(3);
  });

  it("mends a crash: a disk committed but never made is made; a release whose disks were never marked, and a wipe cut short (with its qemu-nbd left running), are finished", async () => {
    const { ann, lease, hostA, hostB } = await world();
    // Crash between the create's commit and the file: the row is there, no file.
    const { data } = await createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostA, sizeGb: 0.01 });
    const row = (await getLeaseDiskRow(t.db, data[0]!.id))!;
    expect(await exists(row.path)).toBe(false);
    expect(await reconcile()).toMatchObject({ made: 1, failed: 0 });
    expect(await exists(row.path)).toBe(true);

    // A wipe cut short: marked wiping, export still running — and a second qemu-nbd for the same
    // disk, as a SIGKILLed worker would leave behind, on another port.
    await createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostB, sizeGb: 0.01 });
    await reconcile();
    const b = (await listLeaseDiskRows(t.db, { leaseId: lease.id, hostId: hostB, live: true }))[0]!;
    const orphan = execFile("qemu-nbd", ["--persistent", "--bind", "127.0.0.1", "--port", "0", "--export-name", b.exportName, "-f", "raw", b.path]);
    const orphanGone = new Promise((r) => orphan.once("exit", r));
    await new Promise((r) => setTimeout(r, 500));
    expect(orphan.exitCode).toBeNull();

    // Crash between the release's commit and the marking of its disks: only the lease's rows change.
    await t.db.transaction(async (tx) => {
      await releaseLeaseHosts(tx, { leaseId: lease.id, at: new Date() });
      await updateLeaseRow(tx, lease.id, { state: "released", endedAt: new Date() });
    });
    expect((await listLeaseDiskRows(t.db, { leaseId: lease.id, live: true })).map((r) => r.state)).toEqual(["ready", "ready"]);
    const mended = await reconcile();
    expect(mended).toMatchObject({ marked: 2, wiped: 2, failed: 0 });
    expect(await exists(row.path)).toBe(false);
    expect(await exists(b.path)).toBe(false);
    await orphanGone; // the left-over server was stopped too
    expect((await listLeaseDiskRows(t.db, { leaseId: lease.id })).map((r) => r.state)).toEqual(["wiped", "wiped"]);
  });

  it("wipes the disks of a lease that expires (the staged end's release, as the system)", async () => {
    const { ann, lease, hostA } = await world();
    await createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostA, sizeGb: 0.01 });
    await reconcile();
    const [d] = await listLeaseDiskRows(t.db, { leaseId: lease.id, live: true });
    const after = new Date(new Date(lease.endsAt).getTime() + 60_000);
    expect((await advanceLeaseEnds(t.db, { now: after })).expired).toBeGreaterThanOrEqual(1);
    expect((await getLeaseDiskRow(t.db, d!.id))!.state).toBe("wiping");
    await reconcile();
    expect((await getLeaseDiskRow(t.db, d!.id))!.state).toBe("wiped");
    expect(await exists(d!.path)).toBe(false);
  });

  it("keeps a host's disks with it when the host is handed to another member (a new lease of the same project)", async () => {
    const { ann, bob, lease, hostA, hostB } = await world();
    await createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostA, sizeGb: 0.01 });
    await createLeaseDisks(t.db, as(ann), lease.id, { hostId: hostB, sizeGb: 0.01 });
    await reconcile();
    const handed = await handOverLease(t.db, as(ann), lease.id, { toUserId: bob.id, hostId: hostB });
    expect(handed.id).not.toBe(lease.id);
    expect(await reconcile()).toMatchObject({ marked: 0, wiped: 0 });
    expect((await listLeaseDisks(t.db, as(bob), handed.id)).data.map((d) => [d.hostId, d.state])).toEqual([[hostB, "ready"]]);
    expect((await listLeaseDisks(t.db, as(ann), lease.id)).data.map((d) => d.hostId)).toEqual([hostA]);
  });

  it("refuses a row whose file has another size rather than serve someone's bytes as a new disk", async () => {
    const { w, lease, hostA } = await world();
    const id = crypto.randomUUID();
    const file = path.join(dir, `${id}.img`);
    await run("truncate", ["-s", "12345", file]);
    await insertLeaseDisks(t.db, [{ id, leaseId: lease.id, hostId: hostA, projectId: w.projects[0]!.id, position: 1, name: "disk1", sizeBytes: MIB, path: file, exportName: `kiln-test-${id}`, state: "creating" }]);
    const r = await reconcile();
    expect(r.failed).toBe(1);
    expect((await getLeaseDiskRow(t.db, id))!).toMatchObject({ state: "creating", lastError: expect.stringMatching(/exists with 12345 bytes/) });
    expect(await stat(file).then((s) => s.size)).toBe(12345);
    // Released: the row is wiped like any other, and the file (whoever's it was) goes with it.
    await releaseLease(t.db, w.adminActor, lease.id);
    expect(await reconcile()).toMatchObject({ failed: 0 });
    expect(await exists(file)).toBe(false);
  });
});
