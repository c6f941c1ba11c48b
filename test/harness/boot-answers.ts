// A small lab for the boot server's in-memory answers: held hosts that can be marked, one
// halted by a failed image write, and a Db wrapper that counts the queries started through it.
import { randomBytes } from "node:crypto";
import { insertDeployment } from "@/db/queries/boot";
import { insertSteps } from "@/db/queries/deployments";
import { actorOf, type Actor } from "@/lib/access/actor";
import { markForReinstall, updateBootSettings } from "@/lib/boot/boot-settings";
import type { Db } from "@/lib/db";
import { createHost } from "@/lib/hosts/hosts";
import { createLease } from "@/lib/leases/leases";
import { createPool } from "@/lib/pools/pools";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { listTemplates, syncBuiltinTemplates } from "@/lib/templates/templates";
import { createActiveUser } from "./fixtures";

export type BootLab = {
  holder: Actor;
  admin: Actor;
  /** MACs by host, lower-case with colons; `hosts` has one id per MAC's host. */
  macs: string[];
  hostIds: string[];
  /** Chooses the Debian templates for the host and marks it; returns the run's id. */
  mark: (hostId: string) => Promise<string>;
  /** Gives the host a failed image write that had started writing: its next boot halts. */
  halt: (hostId: string, reason: string) => Promise<string>;
};

/** `count` held hosts with MACs 52:54:00:<byte>:00:<i+1>. */
export async function seedBootLab(db: Db, p: { byte: number; count: number }): Promise<BootLab> {
  const tag = p.byte.toString(16).padStart(2, "0");
  await syncBuiltinTemplates(db);
  const admin = actorOf((await createActiveUser(db, { admin: true })).user, null);
  const { user } = await createActiveUser(db, { name: "Holder" });
  const holder = actorOf(user, null);
  const pool = await createPool(db, admin, { name: `answers-${tag}` });
  const macs: string[] = [];
  const hostIds: string[] = [];
  for (let i = 0; i < p.count; i++) {
    const mac = `52:54:00:${tag}:00:${(i + 1).toString(16).padStart(2, "0")}`;
    const host = await createHost(db, admin, { name: `ans-${tag}-${i + 1}`, poolId: pool.id, interfaces: [{ mac, name: "eno1" }] });
    macs.push(mac);
    hostIds.push(host.id);
  }
  const project = await createProject(db, admin, { name: `answers-${tag}` });
  await addProjectMember(db, admin, project.id, { email: user.email });
  await createLease(db, admin, { hostIds, userId: user.id, projectId: project.id });
  const all = await listTemplates(db, holder);
  const sys = all.find((x) => x.builtinKey === "debian-12-netinstall")!.id;
  const un = all.find((x) => x.builtinKey === "debian-12-preseed")!.id;
  return {
    holder,
    admin,
    macs,
    hostIds,
    mark: async (hostId) => {
      await updateBootSettings(db, holder, hostId, { systemTemplateId: sys, unattendedTemplateId: un, vars: { disk: "vda" } });
      return (await markForReinstall(db, holder, hostId)).deploymentId;
    },
    halt: async (hostId, reason) => {
      const at = new Date();
      const d = await insertDeployment(db, {
        hostId,
        action: "deploy_image",
        state: "failed",
        failureReason: reason,
        tokenHash: randomBytes(32).toString("hex"),
        tokenExpiresAt: at,
        startedAt: at,
        finishedAt: at,
      });
      await insertSteps(db, [{ deploymentId: d.id, position: 0, name: "write", state: "failed", startedAt: at, finishedAt: at }]);
      return d.id;
    },
  };
}

const QUERY_METHODS = new Set(["select", "selectDistinct", "insert", "update", "delete", "execute", "transaction", "query"]);

/** The same database, counting every query builder or transaction started through it. */
export function countingDb(db: Db): { db: Db; queries: () => number } {
  let n = 0;
  const wrapped = new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof prop === "string" && QUERY_METHODS.has(prop)) {
        n++;
        return typeof value === "function" ? value.bind(target) : value;
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: wrapped, queries: () => n };
}
