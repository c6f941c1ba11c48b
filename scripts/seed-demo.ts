// `npm run seed:demo`: a demo inventory, so a newcomer can lease a machine at once —
// pool "demo" (4 h by default, 72 h at most), hosts demo-01..demo-12, project "demo" with
// generous quotas, and every active account as a member of it. Safe to run again: it
// creates only what is missing and adds accounts that joined since. Changes are made
// through lib/ as the system, so they are validated and audited like any other.
// Works against DATABASE_URL, or the embedded database (running or not), like `npm run kiln`.
import { listHostRows } from "@/db/queries/hosts";
import { getMembership, listProjectRows } from "@/db/queries/projects";
import { listUsers } from "@/db/queries/users";
import type { UserRow } from "@/db/schema";
import { runMigrations } from "@/lib/runtime/migrations";
import { getUserStatus } from "@/lib/users/user-view";
import { SYSTEM } from "@/lib/access/actor";
import { getAppDb, type Db } from "@/lib/db";
import { getEnv, setEnvForProcess } from "@/lib/env";
import { isAppError } from "@/lib/errors";
import { createHost } from "@/lib/hosts/hosts";
import { createPool, listPools } from "@/lib/pools/pools";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { openRuntimeDatabase } from "@/lib/runtime/database";

const DEMO = "demo";
const POOL_POLICY = { defaultLeaseHours: 4, maxLeaseHours: 72 };
const PROJECT_QUOTAS = { maxHosts: 12, maxLeaseHours: 72, maxNodeHoursPerMonth: 10_000 };

/** Three kinds of machine, four of each: what a lab typically has. */
function demoHosts() {
  const kinds = [
    { tags: ["gpu", "ssd"], cpuCores: 32, memoryMb: 262_144, disks: [{ name: "nvme0n1", sizeBytes: 1_920_383_410_176 }] },
    { tags: ["ssd"], cpuCores: 16, memoryMb: 131_072, disks: [{ name: "nvme0n1", sizeBytes: 960_197_124_096 }] },
    { tags: ["hdd"], cpuCores: 8, memoryMb: 32_768, disks: [{ name: "sda", sizeBytes: 4_000_787_030_016 }] },
  ];
  return Array.from({ length: 12 }, (_, i) => {
    const n = String(i + 1).padStart(2, "0");
    return {
      name: `demo-${n}`,
      mac: `02:00:00:00:00:${(i + 1).toString(16).padStart(2, "0")}`,
      ...kinds[Math.floor(i / 4)]!,
    };
  });
}

async function listActiveUsers(db: Db): Promise<UserRow[]> {
  const all: UserRow[] = [];
  for (let offset = 0; ; offset += 500) {
    const { rows } = await listUsers(db, { limit: 500, offset });
    all.push(...rows);
    if (rows.length < 500) break;
  }
  return all.filter((u) => getUserStatus(u) === "active");
}

async function seedDemo(db: Db, say: (line: string) => void): Promise<void> {
  let pool = (await listPools(db)).find((p) => p.name === DEMO);
  if (pool) {
    say(`pool ${DEMO}: already there (default ${pool.defaultLeaseHours} h, max ${pool.maxLeaseHours} h)`);
  } else {
    const created = await createPool(db, SYSTEM, { name: DEMO, description: "Demo machines from `npm run seed:demo`.", ...POOL_POLICY });
    pool = { ...created, hostCount: 0, availableCount: 0 };
    say(`pool ${DEMO}: created (default ${POOL_POLICY.defaultLeaseHours} h, max ${POOL_POLICY.maxLeaseHours} h)`);
  }

  const wanted = demoHosts();
  const { rows } = await listHostRows(db, { q: "demo-", sort: "name", order: "asc", limit: 500, offset: 0 });
  const existing = new Set(rows.map((r) => r.host.name));
  const created: string[] = [];
  for (const h of wanted.filter((w) => !existing.has(w.name))) {
    const made = await createHost(db, SYSTEM, {
      name: h.name,
      poolId: pool.id,
      tags: h.tags,
      cpuCores: h.cpuCores,
      memoryMb: h.memoryMb,
      disks: h.disks,
      interfaces: [{ mac: h.mac, name: "eno1", isPxe: true }],
      notes: "Demo host: it has no real machine behind it.",
    }).catch((e: unknown) => {
      // A real machine may already own a demo MAC; that host is skipped, the rest still made.
      if (!isAppError(e)) throw e;
      say(`host ${h.name}: skipped (${e.message})`);
    });
    if (made) created.push(h.name);
  }
  say(`hosts: ${created.length ? `created ${created.join(", ")}` : "none created"}${created.length < wanted.length ? ` (${wanted.length - created.length} already there)` : ""}`);

  let project = (await listProjectRows(db, {})).find((p) => p.name === DEMO);
  if (project) {
    say(`project ${DEMO}: already there`);
  } else {
    project = await createProject(db, SYSTEM, { name: DEMO, description: "Everyone's project for trying Kiln out.", ...PROJECT_QUOTAS });
    say(`project ${DEMO}: created (up to ${PROJECT_QUOTAS.maxHosts} hosts, ${PROJECT_QUOTAS.maxLeaseHours} h leases, ${PROJECT_QUOTAS.maxNodeHoursPerMonth} node-hours a month)`);
  }

  const users = await listActiveUsers(db);
  const added: string[] = [];
  for (const user of users) {
    // Only absent members are added: re-adding would reset a leader to member.
    if (await getMembership(db, { projectId: project.id, userId: user.id })) continue;
    await addProjectMember(db, SYSTEM, project.id, { userId: user.id, role: "member" });
    added.push(user.email);
  }
  say(`members: ${added.length ? `added ${added.join(", ")}` : "nobody new"} (${users.length} active account${users.length === 1 ? "" : "s"} in all)`);
  if (users.length === 0) say("no accounts yet: run this again after the first people have registered.");
  say(`done: lease from pool ${DEMO} in project ${DEMO}.`);
}

async function main(): Promise<number> {
  const runtime = await openRuntimeDatabase(getEnv(), { attachIfRunning: true });
  try {
    await runMigrations(runtime.url);
    setEnvForProcess({ DATABASE_URL: runtime.url });
    await seedDemo(getAppDb(), (line) => console.log(line));
    return 0;
  } finally {
    await runtime.stop();
  }
}

main()
  .then((code) => process.exit(code))
  .catch((e) => {
    console.error(`error: ${isAppError(e) ? e.message : (e as Error).message}`);
    process.exit(1);
  });
