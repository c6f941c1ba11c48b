// Commissioning (docs/commissioning.md): the deploy ramdisk boots in inventory mode, reports
// the machine's hardware and switches it off. On arrival — a machine's first network boot,
// while KILN_COMMISSION_ON_DISCOVERY is on — and whenever an administrator asks.
import { getHostRow, listInterfaces } from "@/db/queries/hosts";
import { hasAnyDeployment } from "@/db/queries/host-facts";
import type { HostRow } from "@/db/schema";
import type { Db } from "../db";
import { getEnv } from "../env";
import { AppError } from "../errors";
import { getLogger } from "../log";
import { assertAdmin, SYSTEM, type Actor } from "../access/actor";
import { builtinSystemTemplate, createDeployment } from "./commands";
import { getDeployment, type DeploymentView } from "./views";
import { isUniqueViolation } from "@/db/errors";
import { isCommissionable } from "../hosts/state-machine";

async function newCommissionRun(db: Db, actor: Actor, host: HostRow, p: { power: boolean; now?: Date }) {
  const t = await builtinSystemTemplate(db, "commission");
  return createDeployment(
    db,
    actor,
    { host, leaseId: null, userId: actor.user?.id ?? null, action: "commission", system: { id: t.id, version: t.latestVersion, name: t.name }, unattended: null, image: null, vars: {}, options: { power: p.power }, origin: "system", power: p.power },
    p.now,
  );
}

/**
 * Whether a host that network-boots now is commissioned on arrival: it was discovered (not
 * registered by an admin or `npm run lab`), is still new, and never had a run — so a commission
 * that failed is not repeated at every boot (an admin commissions it again), and a crash
 * between recording the host and creating its run is mended at its next boot.
 */
export async function isArrivalCommissionDue(db: Db, host: HostRow): Promise<boolean> {
  if (!getEnv().KILN_COMMISSION_ON_DISCOVERY || host.state !== "new" || !host.firstSeenAt) return false;
  return !(await hasAnyDeployment(db, host.id));
}

/**
 * Creates the commissioning run of a machine that is network-booting right now: no power step
 * (it is already on its way), so its boot request is the run's boot. Never throws: a machine
 * whose run could not be made boots its disk, and its next boot tries again.
 */
export async function commissionOnArrival(db: Db, host: HostRow, now: Date): Promise<boolean> {
  try {
    if (!(await isArrivalCommissionDue(db, host))) return false;
    await newCommissionRun(db, SYSTEM, host, { power: false, now });
    return true;
  } catch (e) {
    // Two boot requests of one new machine at once: the other one made the run.
    if (e instanceof AppError && e.code === "conflict") return true;
    if (isUniqueViolation(e, "deployments_one_active_key")) return true;
    getLogger("boot").error({ hostId: host.id, err: e instanceof Error ? e.message : String(e) }, "could not create the commissioning run of a new machine; it boots its disk");
    return false;
  }
}

/** POST /api/v1/hosts/:id/commission — an administrator has a host report its hardware again. */
export async function commissionHost(db: Db, actor: Actor, hostId: string, clock: { now?: Date } = {}): Promise<DeploymentView> {
  assertAdmin(actor, "Only administrators can commission hosts.");
  const host = await getHostRow(db, hostId);
  if (!host) throw new AppError("not_found", "That host does not exist.");
  if (!isCommissionable(host.state)) {
    throw new AppError("conflict", `${host.name} is ${host.state}: a host is commissioned while nobody holds it (new, available, maintenance or broken); nothing was started.`);
  }
  if ((await listInterfaces(db, [host.id])).length === 0) throw new AppError("conflict", `${host.name} has no network interface (MAC) to network-boot from; nothing was started.`);
  // Audited by createDeployment, in the run's own transaction.
  const d = await newCommissionRun(db, actor, host, { power: true, now: clock.now });
  return getDeployment(db, actor, d.id);
}
