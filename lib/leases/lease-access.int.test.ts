// The ssh line on the researcher's lease cards (GET /leases?scope=mine feeds them): built from
// the addresses learned under each host's lease, for all hosts of the page at once, and only
// for hosts still held.
import { describe, expect, it } from "vitest";
import { recordHostAddresses } from "@/lib/hosts/addresses";
import { useTestDb } from "@/test/harness/database";
import { as, seedLeaseWorld } from "@/test/harness/inventory";
import { createLease, listLeases, releaseLease } from "./leases";

const t = await useTestDb();
const NOW = new Date("2026-11-10T10:00:00Z");
const after = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);

describe("the ssh line on a lease card", () => {
  it("shows the best routable address learned under the lease per held host, none for a loopback relay's or a former holder's, and is gone once released", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 3, membersPerProject: 2 });
    const [ann, bob] = w.members[0]!;
    const two = await createLease(t.db, as(ann!), { poolId: w.pool.id, count: 2 }, { now: NOW });
    const one = await createLease(t.db, as(ann!), { poolId: w.pool.id, count: 1 }, { now: NOW });
    const [a, b] = two.hosts.map((h) => h.id) as [string, string];
    const c = one.hosts[0]!.id;

    // Before anything is learned: every held host says none (null, not absent).
    let cards = (await listLeases(t.db, as(ann!), { scope: "mine" })).data;
    expect(cards.flatMap((l) => l.hosts.map((h) => h.access))).toEqual([null, null, null]);

    // a: what the machine saw of a former holder's system (before this lease) is not used; the
    // boot request came through a loopback relay (no line); then the deploy agent and the
    // installed system report, and the installed one wins.
    await recordHostAddresses(t.db, { hostId: a, source: "installed", addresses: [{ address: "198.51.100.9", mac: null }], at: new Date(NOW.getTime() - 60_000) });
    await recordHostAddresses(t.db, { hostId: a, source: "boot", addresses: [{ address: "127.0.0.1", mac: null }], at: after(1) });
    cards = (await listLeases(t.db, as(ann!), { scope: "mine" })).data;
    expect(cards.find((l) => l.id === two.id)!.hosts.find((h) => h.id === a)!.access).toBeNull();

    await recordHostAddresses(t.db, { hostId: a, source: "agent", addresses: [{ address: "10.20.0.7", mac: null }], at: after(2) });
    await recordHostAddresses(t.db, { hostId: a, source: "installed", addresses: [{ address: "10.20.0.8", mac: null }], at: after(3) });
    // c (another lease on the same page): only an agent's IPv6 and IPv4; IPv4 first.
    await recordHostAddresses(t.db, { hostId: c, source: "agent", addresses: [{ address: "2001:db8::5", mac: null }, { address: "192.0.2.44", mac: null }], at: after(2) });

    cards = (await listLeases(t.db, as(ann!), { scope: "mine" })).data;
    const hostOf = (id: string) => cards.flatMap((l) => l.hosts).find((h) => h.id === id)!;
    // No run yet: Kiln does not know the accounts, so root (and says it is a guess).
    expect(hostOf(a).access).toEqual({ address: "10.20.0.8", addressSource: "installed", user: "root", userSource: "fallback", command: "ssh root@10.20.0.8" });
    expect(hostOf(b).access).toBeNull();
    expect(hostOf(c).access).toMatchObject({ command: "ssh root@192.0.2.44", addressSource: "agent" });

    // Authorised as the cards are: Bob (same project) lists his own leases, which are none.
    expect((await listLeases(t.db, as(bob!), { scope: "mine" })).data).toEqual([]);

    // Released: the card moves to past leases and carries no line.
    const released = await releaseLease(t.db, as(ann!), two.id, { now: after(5) });
    expect(released.hosts.every((h) => !("access" in h))).toBe(true);
    cards = (await listLeases(t.db, as(ann!), { scope: "mine" })).data;
    expect(cards.find((l) => l.id === two.id)!.hosts.every((h) => !("access" in h))).toBe(true);
    expect(cards.find((l) => l.id === one.id)!.hosts[0]!.access?.command).toBe("ssh root@192.0.2.44");
  });
});
