// Hosts through lib/: the state machine as the database applies it, create/update validation,
// all-or-nothing bulk actions, and who sees which host.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { countHostEvents, findTakenMacs, getHostRow, getHostRowsByIds, updateHostRow } from "@/db/queries/hosts";
import type { HostState } from "@/db/schema";
import { actorOf } from "@/lib/access/actor";
import { createLease, releaseLease } from "@/lib/leases/leases";
import { createPool } from "@/lib/pools/pools";
import { useTestDb } from "@/test/harness/database";
import { createActiveUser, expectAppError } from "@/test/harness/fixtures";
import { as, hostStates, seedHosts, seedLeaseWorld, uniqueSuffix } from "@/test/harness/inventory";
import { acceptHost, bulkUpdateHosts, changeHostState, createHost, deleteHost, getHostDetail, listHosts, updateHost } from "./hosts";
import { canTransition, HOST_STATES } from "./state-machine";

const t = await useTestDb();
const { user: admin } = await createActiveUser(t.db, { admin: true });
const A = actorOf(admin, { ip: "192.0.2.10", userAgent: "vitest" });

function mac(): string {
  return `52:54:00:${uniqueSuffix().match(/../g)!.join(":")}`;
}

async function eventCount(hostId: string): Promise<number> {
  return countHostEvents(t.db, hostId);
}

describe("host states", () => {
  it("refuses to put a leased host in maintenance, with a message saying what to do (409)", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const lease = await createLease(t.db, as(w.members[0]![0]!), { poolId: w.pool.id });
    const host = lease.hosts[0]!;
    const before = await eventCount(host.id);
    const err = await expectAppError(
      changeHostState(t.db, A, host.id, { state: "maintenance", reason: "fan noise" }),
      "conflict",
      `Host ${host.name} is leased; it cannot become maintenance. Release its lease first.`,
    );
    expect(err.status).toBe(409);
    expect((await hostStates(t.db, [host.id]))[host.id]).toBe("leased");
    expect(await eventCount(host.id)).toBe(before);
    // Broken is allowed even while leased: hardware fails when it likes.
    expect((await changeHostState(t.db, A, host.id, { state: "broken", reason: "PSU died" })).state).toBe("broken");
  });

  it("applies exactly the transitions of the state-machine table", async () => {
    const [host] = await seedHosts(t.db, { count: 1 });
    const targets = HOST_STATES.filter((s) => s !== "leased" && s !== "releasing");
    for (const from of HOST_STATES) {
      for (const to of targets) {
        await updateHostRow(t.db, host!.id, { state: from });
        const attempt = changeHostState(t.db, A, host!.id, { state: to });
        if (canTransition(from, to)) {
          expect((await attempt).state, `${from} → ${to}`).toBe(to);
        } else {
          await expectAppError(attempt, "conflict", from === to ? `Host ${host!.name} is already ${from}.` : new RegExp(`^Host ${host!.name} is ${from}; it cannot become ${to}\\.`));
          expect((await hostStates(t.db, [host!.id]))[host!.id], `${from} → ${to} refused`).toBe(from);
        }
      }
    }
    // leased and releasing are reached through leases only.
    for (const to of ["leased", "releasing"] as HostState[]) {
      await expectAppError(changeHostState(t.db, A, host!.id, { state: to }), "validation", "Hosts become leased and releasing through leases, not by hand. Create or release a lease instead.");
    }
  });

  it("accepts a discovered host once, renaming it into a pool", async () => {
    const pool = await createPool(t.db, A, { name: `accept-${uniqueSuffix()}` });
    const [found] = await seedHosts(t.db, { count: 1, state: "new" });
    const name = `rack-${uniqueSuffix()}`;
    const accepted = await acceptHost(t.db, A, found!.id, { name, poolId: pool.id });
    expect(accepted).toMatchObject({ name, state: "available", poolId: pool.id });
    await expectAppError(acceptHost(t.db, A, found!.id, {}), "conflict", `Host ${name} is already available.`);
  });

  it("leaves state changes to admins", async () => {
    const [host] = await seedHosts(t.db, { count: 1 });
    const { user } = await createActiveUser(t.db);
    await expectAppError(changeHostState(t.db, as(user), host!.id, { state: "maintenance" }), "forbidden", "Only administrators can change hosts.");
    await expectAppError(changeHostState(t.db, A, randomUUID(), { state: "maintenance" }), "not_found", "That host does not exist.");
  });
});

describe("creating and updating hosts", () => {
  it("normalises MACs and refuses malformed, repeated and taken ones, and taken names", async () => {
    const name = `node-${uniqueSuffix()}`;
    const m = mac();
    const created = await createHost(t.db, A, { name, interfaces: [{ mac: m.toUpperCase().replace(/:/g, "-") }, { mac: mac(), name: "bmc" }], cpuCores: 16, tags: ["gpu"] });
    expect(created).toMatchObject({ name, state: "available", cpuCores: 16, tags: ["gpu"] });
    expect(created.interfaces[0]).toEqual({ mac: m, name: "", isPxe: true });
    expect(created.interfaces.filter((i) => i.isPxe)).toHaveLength(1);

    const bad = await expectAppError(createHost(t.db, A, { name: `x-${uniqueSuffix()}`, interfaces: [{ mac: "52:54:00:zz:00:01" }] }), "validation");
    expect(bad.message).toBe("“52:54:00:zz:00:01” is not a MAC address (expected six hex pairs, like 52:54:00:12:34:56).");
    expect(Object.keys(bad.details!.fieldErrors!)).toEqual(["interfaces.0.mac"]);
    await expectAppError(createHost(t.db, A, { name: `x-${uniqueSuffix()}`, interfaces: [] }), "validation", "A host needs at least one network interface.");
    const other = mac();
    await expectAppError(createHost(t.db, A, { name: `x-${uniqueSuffix()}`, interfaces: [{ mac: other }, { mac: other.toUpperCase() }] }), "validation", `MAC ${other} is listed twice.`);

    const takenMac = await expectAppError(createHost(t.db, A, { name: `x-${uniqueSuffix()}`, interfaces: [{ mac: m.replace(/:/g, "") }] }), "validation", `MAC ${m} already belongs to host ${name}.`);
    expect(takenMac.details!.fieldErrors).toEqual({ interfaces: [`MAC ${m} already belongs to host ${name}.`] });
    const takenName = await expectAppError(createHost(t.db, A, { name, interfaces: [{ mac: mac() }] }), "validation", `A host named ${name} already exists.`);
    expect(Object.keys(takenName.details!.fieldErrors!)).toEqual(["name"]);
    await expectAppError(createHost(t.db, A, { name: "-bad name", interfaces: [{ mac: mac() }] }), "validation", "Use letters, digits, dots, dashes and underscores, starting with a letter or digit.");
    await expectAppError(createHost(t.db, A, { name: `x-${uniqueSuffix()}`, poolId: randomUUID(), interfaces: [{ mac: mac() }] }), "validation", "That pool does not exist.");
  });

  it("lets only one of several simultaneous creates claim a MAC", async () => {
    const m = mac();
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => createHost(t.db, A, { name: `race-${uniqueSuffix()}`, interfaces: [{ mac: m }] })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "validation", message: expect.stringMatching(/MAC .*already belongs to (another )?host/) });
    }
    expect(await findTakenMacs(t.db, [m])).toHaveLength(1);
  });

  it("updates a host, refusing another host's MAC or name, and keeps power secrets sealed", async () => {
    const a = await createHost(t.db, A, { name: `upd-a-${uniqueSuffix()}`, interfaces: [{ mac: mac() }] });
    const b = await createHost(t.db, A, { name: `upd-b-${uniqueSuffix()}`, interfaces: [{ mac: mac() }] });
    await expectAppError(updateHost(t.db, A, a.id, { interfaces: [{ mac: b.interfaces[0]!.mac }] }), "validation", `MAC ${b.interfaces[0]!.mac} already belongs to host ${b.name}.`);
    await expectAppError(updateHost(t.db, A, a.id, { name: b.name }), "validation", `A host named ${b.name} already exists.`);
    await expectAppError(updateHost(t.db, A, a.id, { interfaces: [{ mac: "nope" }] }), "validation", /is not a MAC address/);
    await expectAppError(updateHost(t.db, A, randomUUID(), { notes: "x" }), "not_found");

    // Re-listing its own MAC is fine.
    const updated = await updateHost(t.db, A, a.id, {
      interfaces: [a.interfaces[0]!, { mac: mac(), name: "data" }],
      notes: "rack 4",
      power: { driver: "ipmi", params: { address: "10.0.0.4", username: "root" }, secrets: { password: "hunter22" } },
    });
    expect(updated.interfaces).toHaveLength(2);
    expect(updated.power).toEqual({ driver: "ipmi", params: { address: "10.0.0.4", username: "root" }, secretsSet: ["password"] });
    expect(JSON.stringify(updated)).not.toContain("hunter22");
    const row = await getHostRow(t.db, a.id);
    expect(row!.powerSecrets).not.toContain("hunter22");
    // Leaving secrets out keeps them; an empty object clears them.
    expect((await updateHost(t.db, A, a.id, { power: { driver: "ipmi", params: { address: "10.0.0.5" } } })).power!.secretsSet).toEqual(["password"]);
    expect((await updateHost(t.db, A, a.id, { power: { driver: "ipmi", params: {}, secrets: {} } })).power!.secretsSet).toEqual([]);
  });

  it("deletes a host without history, refuses a leased one or one with lease history", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const ann = w.members[0]![0]!;
    const lease = await createLease(t.db, as(ann), { poolId: w.pool.id });
    await expectAppError(deleteHost(t.db, A, w.hosts[0]!.id), "conflict", `Host ${w.hosts[0]!.name} is leased; release its lease before deleting it.`);
    await releaseLease(t.db, as(ann), lease.id);
    await expectAppError(deleteHost(t.db, A, w.hosts[0]!.id), "conflict", "This host has lease history, which must be kept; put it in maintenance instead of deleting it.");
    const [spare] = await seedHosts(t.db, { count: 1 });
    await deleteHost(t.db, A, spare!.id);
    expect(await hostStates(t.db, [spare!.id])).toEqual({});
  });
});

describe("bulk actions", () => {
  it("changes every selected host or none", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 3 });
    const lease = await createLease(t.db, as(w.members[0]![0]!), { poolId: w.pool.id });
    const ids = w.hosts.map((h) => h.id);
    const leasedId = lease.hosts[0]!.id;
    const leasedName = lease.hosts[0]!.name;
    const before = await hostStates(t.db, ids);

    await expectAppError(bulkUpdateHosts(t.db, A, { hostIds: ids, action: "maintenance" }), "conflict", `Host ${leasedName} is leased; it cannot become maintenance. Release its lease first.`);
    expect(await hostStates(t.db, ids)).toEqual(before);

    const target = await createPool(t.db, A, { name: `bulk-${uniqueSuffix()}` });
    await expectAppError(bulkUpdateHosts(t.db, A, { hostIds: [...ids, randomUUID()], action: "move_to_pool", poolId: target.id }), "not_found", "One of the selected hosts does not exist.");
    const pools = await getHostRowsByIds(t.db, ids);
    expect(pools.every((p) => p.poolId === w.pool.id)).toBe(true);

    const free = ids.filter((id) => id !== leasedId);
    expect(await bulkUpdateHosts(t.db, A, { hostIds: [...free, free[0]!], action: "maintenance" })).toEqual({ updated: 2 });
    expect(Object.values(await hostStates(t.db, free))).toEqual(["maintenance", "maintenance"]);
    expect(await bulkUpdateHosts(t.db, A, { hostIds: ids, action: "move_to_pool", poolId: target.id })).toEqual({ updated: 3 });
    expect(await bulkUpdateHosts(t.db, A, { hostIds: free, action: "available" })).toEqual({ updated: 2 });
    const { user } = await createActiveUser(t.db);
    await expectAppError(bulkUpdateHosts(t.db, as(user), { hostIds: free, action: "maintenance" }), "forbidden");
    await expectAppError(bulkUpdateHosts(t.db, A, { hostIds: [], action: "maintenance" }), "validation", "Select at least one host.");
  });
});

describe("who sees which host", () => {
  it("shows a host to its holder and admins; to anyone else it does not exist", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 2, membersPerProject: 2 });
    const [ann, ben] = w.members[0]!;
    const lease = await createLease(t.db, as(ann!), { poolId: w.pool.id });
    const held = lease.hosts[0]!.id;
    const free = w.hosts.find((h) => h.id !== held)!.id;

    const mine = await getHostDetail(t.db, as(ann!), held);
    expect(mine.host).toMatchObject({ id: held, state: "leased", lease: { id: lease.id } });
    expect(mine.host.power).toBeUndefined(); // power settings are for admins
    expect(mine.leases.map((l) => l.leaseId)).toEqual([lease.id]);
    expect(mine.events.every((e) => e.leaseId === lease.id)).toBe(true);

    await expectAppError(getHostDetail(t.db, as(ben!), held), "not_found", "That host does not exist.");
    await expectAppError(getHostDetail(t.db, as(ann!), free), "not_found", "That host does not exist.");
    await expectAppError(getHostDetail(t.db, as(ann!), randomUUID()), "not_found", "That host does not exist.");
    const asAdmin = await getHostDetail(t.db, A, free);
    expect(asAdmin.host.power).toEqual({ driver: "manual", params: {}, secretsSet: [] });

    // After the release the former holder no longer sees it.
    await releaseLease(t.db, as(ann!), lease.id);
    await expectAppError(getHostDetail(t.db, as(ann!), held), "not_found");
    const history = await getHostDetail(t.db, A, held);
    expect(history.leases).toMatchObject([{ leaseId: lease.id, userEmail: ann!.email, state: "released" }]);
  });

  it("lists for a researcher only the hosts they hold; admins list all, filtered", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 4, membersPerProject: 2, hostOptions: { tags: ["ssd"] } });
    const [ann, ben] = w.members[0]!;
    const a = await createLease(t.db, as(ann!), { poolId: w.pool.id, count: 2 });
    await createLease(t.db, as(ben!), { poolId: w.pool.id });

    const annHosts = await listHosts(t.db, as(ann!), {});
    expect(annHosts.pagination.total).toBe(2);
    expect(annHosts.data.map((h) => h.id)).toEqual(a.hosts.map((h) => h.id));
    expect(annHosts.data[0]!.lease).toMatchObject({ id: a.id, holderEmail: ann!.email });
    // Filters cannot widen what a researcher sees.
    expect((await listHosts(t.db, as(ann!), { state: "available" })).data).toEqual([]);

    const inPool = await listHosts(t.db, A, { pool: w.pool.id });
    expect(inPool.pagination.total).toBe(4);
    expect((await listHosts(t.db, A, { pool: w.pool.id, state: "available" })).data.map((h) => h.name)).toEqual([w.hosts[3]!.name]);
    expect((await listHosts(t.db, A, { pool: w.pool.id, q: w.hosts[1]!.name })).data.map((h) => h.id)).toEqual([w.hosts[1]!.id]);
    expect((await listHosts(t.db, A, { pool: w.pool.id, sort: "name", order: "desc", per_page: 1 })).data[0]!.name).toBe(w.hosts[3]!.name);
    expect((await listHosts(t.db, A, { q: "%" })).data).toEqual([]); // literal, not a wildcard
  });
});
