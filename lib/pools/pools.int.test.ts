// Pools through lib/: policy validation, names, counts everyone can see, and what deleting
// a pool does to its hosts.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { actorOf } from "@/lib/access/actor";
import { createLease } from "@/lib/leases/leases";
import { useTestDb } from "@/test/harness/database";
import { createActiveUser, expectAppError } from "@/test/harness/fixtures";
import { as, seedHosts, seedLeaseWorld, uniqueSuffix } from "@/test/harness/inventory";
import { listHosts } from "@/lib/hosts/hosts";
import { createPool, deletePool, getPool, listPools, updatePool } from "./pools";

const t = await useTestDb();
const { user: admin } = await createActiveUser(t.db, { admin: true });
const A = actorOf(admin, { ip: "192.0.2.30", userAgent: "vitest" });

describe("pools", () => {
  it("creates pools with a lease policy and refuses a default longer than the maximum", async () => {
    const name = `rack-${uniqueSuffix()}`;
    const pool = await createPool(t.db, A, { name, description: "row 3", defaultLeaseHours: 4, maxLeaseHours: 72 });
    expect(pool).toMatchObject({ name, description: "row 3", defaultLeaseHours: 4, maxLeaseHours: 72 });
    expect(await createPool(t.db, A, { name: `defaults-${uniqueSuffix()}` })).toMatchObject({ defaultLeaseHours: 24, maxLeaseHours: 168 });

    const tooLong = await expectAppError(createPool(t.db, A, { name: `x-${uniqueSuffix()}`, defaultLeaseHours: 48, maxLeaseHours: 24 }), "validation", "The default duration cannot exceed the maximum.");
    expect(Object.keys(tooLong.details!.fieldErrors!)).toEqual(["defaultLeaseHours"]);
    await expectAppError(createPool(t.db, A, { name, maxLeaseHours: 100 }), "validation", `A pool named ${name} already exists.`);
    await expectAppError(createPool(t.db, A, { name: `x-${uniqueSuffix()}`, maxLeaseHours: 0 }), "validation");

    // The same rule holds for an update that changes only one side of it.
    await expectAppError(updatePool(t.db, A, pool.id, { defaultLeaseHours: 100 }), "validation", "The default duration cannot exceed the maximum.");
    await expectAppError(updatePool(t.db, A, pool.id, { maxLeaseHours: 2 }), "validation", "The default duration cannot exceed the maximum.");
    expect(await updatePool(t.db, A, pool.id, { maxLeaseHours: 8, description: "" })).toMatchObject({ defaultLeaseHours: 4, maxLeaseHours: 8, description: "" });
    await expectAppError(updatePool(t.db, A, randomUUID(), { description: "x" }), "not_found", "That pool does not exist.");
    await expectAppError(getPool(t.db, randomUUID()), "not_found");
  });

  it("leaves pool changes to admins", async () => {
    const pool = await createPool(t.db, A, { name: `adm-${uniqueSuffix()}` });
    const { user } = await createActiveUser(t.db);
    const U = as(user);
    await expectAppError(createPool(t.db, U, { name: `x-${uniqueSuffix()}` }), "forbidden", "Only administrators can change pools.");
    await expectAppError(updatePool(t.db, U, pool.id, { maxLeaseHours: 1000 }), "forbidden");
    await expectAppError(deletePool(t.db, U, pool.id), "forbidden");
  });

  it("shows everyone each pool's size and free hosts", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 3 });
    await seedHosts(t.db, { poolId: w.pool.id, count: 1, state: "maintenance" });
    await createLease(t.db, as(w.members[0]![0]!), { poolId: w.pool.id });
    const listed = (await listPools(t.db)).find((p) => p.id === w.pool.id);
    expect(listed).toMatchObject({ name: w.pool.name, hostCount: 4, availableCount: 2 });
    expect(await getPool(t.db, w.pool.id)).toMatchObject({ hostCount: 4 });
  });

  it("deletes a pool, leaving its hosts (even leased ones) outside any pool", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 2 });
    const lease = await createLease(t.db, as(w.members[0]![0]!), { poolId: w.pool.id });
    await deletePool(t.db, A, w.pool.id);
    await expectAppError(getPool(t.db, w.pool.id), "not_found");
    const loose = await listHosts(t.db, A, { pool: "none", q: w.hosts[0]!.name.slice(0, -3) });
    expect(loose.data.map((h) => [h.name, h.poolId, h.state])).toEqual(
      w.hosts.map((h) => [h.name, null, h.id === lease.hosts[0]!.id ? "leased" : "available"]),
    );
    await expectAppError(deletePool(t.db, A, w.pool.id), "not_found");
  });
});
