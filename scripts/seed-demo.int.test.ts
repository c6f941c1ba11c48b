// `npm run seed:demo` as a person runs it: `npx tsx scripts/seed-demo.ts` in a child process,
// pointed at this file's test database through DATABASE_URL. Run twice, it changes nothing more.
import { describe, expect, it } from "vitest";
import { countRows } from "@/db/queries/testing";
import { updateUser } from "@/db/queries/users";
import { listHosts } from "@/lib/hosts/hosts";
import { createLease } from "@/lib/leases/leases";
import { listPools } from "@/lib/pools/pools";
import { getProject, listProjects } from "@/lib/projects/projects";
import { useTestDb } from "@/test/harness/database";
import { createActiveUser } from "@/test/harness/fixtures";
import { as, insertActiveUsers } from "@/test/harness/inventory";
import { ownStderr, runScript } from "@/test/harness/run-script";

const t = await useTestDb();
const seedDemo = () => runScript("scripts/seed-demo.ts", [], t.url);

// Each run is a fresh `npx tsx` process that loads the ORM's module graph (seconds on a busy
// machine: bench/README.md, "Memory"); a loaded CI machine needs more than the default 30 s.
describe("seed:demo", { timeout: 90_000 }, () => {
  it("creates the demo pool, 12 hosts and project with every active account in it, once", async () => {
    const { user: admin } = await createActiveUser(t.db, { admin: true });
    const [ann, pending] = await insertActiveUsers(t.db, 2);
    await updateUser(t.db, pending!.id, { emailVerifiedAt: null });

    const first = await seedDemo();
    expect(ownStderr(first)).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("pool demo: created (default 4 h, max 72 h)");
    expect(first.stdout).toContain(`hosts: created ${Array.from({ length: 12 }, (_, i) => `demo-${String(i + 1).padStart(2, "0")}`).join(", ")}\n`);
    expect(first.stdout).toContain("project demo: created");
    expect(first.stdout).toMatch(/members: added .+ \(2 active accounts in all\)/);

    const A = as(admin);
    const pool = (await listPools(t.db)).find((p) => p.name === "demo")!;
    expect(pool).toMatchObject({ defaultLeaseHours: 4, maxLeaseHours: 72, hostCount: 12, availableCount: 12 });
    const hosts = (await listHosts(t.db, A, { pool: pool.id })).data;
    expect(hosts[0]).toMatchObject({ name: "demo-01", state: "available", tags: ["gpu", "ssd"], cpuCores: 32, interfaces: [{ mac: "02:00:00:00:00:01", isPxe: true }] });
    expect(hosts[11]).toMatchObject({ name: "demo-12", tags: ["hdd"], interfaces: [{ mac: "02:00:00:00:00:0c", isPxe: true }] });
    const [project] = await listProjects(t.db, A);
    expect(project).toMatchObject({ name: "demo", maxHosts: 12, maxLeaseHours: 72 });
    expect((await getProject(t.db, A, project!.id)).members.map((m) => m.email).sort()).toEqual([admin.email, ann!.email].sort());

    // A newcomer leases at once, without choosing a project.
    const lease = await createLease(t.db, as(ann!), { poolId: pool.id, tags: ["gpu"] });
    expect(lease).toMatchObject({ projectName: "demo", hosts: [{ name: "demo-01" }] });

    // Again, after one more person joined: only that person is added.
    const [late] = await insertActiveUsers(t.db, 1);
    const second = await seedDemo();
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("pool demo: already there");
    expect(second.stdout).toContain("hosts: none created (12 already there)");
    expect(second.stdout).toContain("project demo: already there");
    expect(second.stdout).toContain(`members: added ${late!.email} (3 active accounts in all)`);
    expect(await countRows(t.db, ["hosts", "pools", "projects", "project_members"])).toEqual({ hosts: 12, pools: 1, projects: 1, project_members: 3 });
  });
});
