// "Ready at the start" (issue 16 item 2): how long before a reservation's start Kiln must take
// its hosts to have what it names deployed, from measured deploy times; starting those deploys;
// and, at the start, whether the plan was met. The signatures are the contract
// lib/reservations/transitions.ts calls.
import {
  getLatestGroupOfReservation,
  listDoneDeploymentDurations,
  listGroupHosts,
  listGroupDeployments,
  listReservationHostNames,
} from "@/db/queries/deployment-groups";
import { getUserById } from "@/db/queries/users";
import type { ReservationDeploy, ReservationPlan, ReservationRow } from "@/db/schema";
import { actorOf } from "../access/actor";
import type { Db, DbOrTx } from "../db";
import { startDeploymentGroup } from "../deployments/groups";
import { isAppError } from "../errors";
import { getLogger } from "../log";

export const DEFAULT_DEPLOY_LEAD_SECONDS = 30 * 60;
/** The safety margin on top of the measured time: deploys vary (mirror load, disks), and a late start is the one failure that matters here. */
export const LEAD_MARGIN_FACTOR = 1.2;
export const LEAD_MARGIN_SECONDS = 5 * 60;
/** Newest finished runs per basis: old runs describe old images and old hardware. */
const MAX_SAMPLES = 50;

/** The nearest-rank p90: with fewer than ten samples, the longest. */
function p90(seconds: number[]): number {
  const sorted = [...seconds].sort((a, b) => a - b);
  return sorted[Math.ceil(0.9 * sorted.length) - 1]!;
}

function minutes(seconds: number): string {
  const m = Math.round(seconds / 60);
  return m < 1 ? `${Math.round(seconds)} s` : `${m} min`;
}

/**
 * The lead for deploying `deploy` on `hostIds` (measured where Kiln has finished runs to measure).
 *
 * A sample is a done, powered run of the same action and the same image (any version) or the same
 * unattended template (else system template), timed from its start to its end: startedAt is when
 * its first step (powering the machine on) began, finishedAt when the last step ended — for an
 * install or a cloud-init deploy, when the installed system reported in. createdAt would measure
 * the same for a powered run; a mark (power: false) waits for a person and is left out.
 *
 * The first basis with samples wins, most specific first: that version on these hosts, any
 * version on these hosts (the hardware matters most: disk speed, firmware boot time), that
 * version on any host, any version on any host. The lead is the p90 of its newest samples plus
 * 20% and 5 minutes, rounded up to the minute; else 30 minutes.
 */
export async function planDeployLead(db: DbOrTx, p: { deploy: ReservationDeploy; hostIds: string[] }): Promise<ReservationPlan> {
  const { deploy } = p;
  const rows = await listDoneDeploymentDurations(db, {
    action: deploy.action,
    imageId: deploy.imageId,
    systemTemplateId: deploy.systemTemplateId,
    unattendedTemplateId: deploy.unattendedTemplateId ?? null,
    limit: 1000,
  });
  const samples = rows.filter((r) => Number.isFinite(r.seconds) && r.seconds > 0);
  const onHosts = new Set(p.hostIds);
  const sameVersion = (r: (typeof samples)[number]) =>
    deploy.action === "deploy_image"
      ? r.imageVersion === deploy.imageVersion
      : deploy.unattendedTemplateId
        ? r.unattendedTemplateVersion === deploy.unattendedTemplateVersion
        : r.systemTemplateVersion === deploy.systemTemplateVersion;
  const what = deploy.action === "deploy_image" ? "image" : deploy.unattendedTemplateId ? "unattended template" : "system template";
  const bases: { label: string; keep: (r: (typeof samples)[number]) => boolean }[] = [
    { label: `this ${what} version on these hosts`, keep: (r) => onHosts.has(r.hostId) && sameVersion(r) },
    { label: `this ${what} (other versions) on these hosts`, keep: (r) => onHosts.has(r.hostId) },
    { label: `this ${what} version on other hosts`, keep: sameVersion },
    { label: `this ${what} (any version) on other hosts`, keep: () => true },
  ];
  for (const basis of bases) {
    const picked = samples.filter(basis.keep).slice(0, MAX_SAMPLES);
    if (picked.length === 0) continue;
    const measured = p90(picked.map((r) => r.seconds));
    const leadSeconds = Math.ceil((measured * LEAD_MARGIN_FACTOR + LEAD_MARGIN_SECONDS) / 60) * 60;
    const stat = picked.length < 10 ? "longest" : "p90";
    return {
      leadSeconds,
      basis: `measured: ${stat} of ${picked.length} finished run${picked.length === 1 ? "" : "s"} of ${basis.label} (${minutes(measured)}), + 20% + 5 min`,
      samples: picked.length,
    };
  }
  return { leadSeconds: DEFAULT_DEPLOY_LEAD_SECONDS, basis: `default: no finished run of this ${what} to measure`, samples: 0 };
}

/** The reservation's deploy as a run start (lib/validation/deployments.ts), with its pinned template versions. */
function runStartOf(deploy: ReservationDeploy): Record<string, unknown> {
  const spec: Record<string, unknown> = { action: deploy.action };
  for (const key of ["imageId", "imageVersion", "systemTemplateId", "systemTemplateVersion", "unattendedTemplateId", "unattendedTemplateVersion", "vars", "disk", "postInstall"] as const) {
    if (deploy[key] !== undefined) spec[key] = deploy[key];
  }
  return spec;
}

/**
 * Starts the reservation's deploy on its lease's hosts as one deployment group (powered: each run
 * powers its machine on), as the reservation's holder — their images and templates, their runs.
 * Returns the group id; null when the reservation names nothing to deploy or nothing could start
 * (the reason is logged, and the outcome at the start says not met).
 */
export async function startReadyDeploys(db: Db, p: { reservation: ReservationRow; leaseId: string; hostIds: string[]; now: Date }): Promise<string | null> {
  const { reservation } = p;
  if (!reservation.deploy) return null;
  const user = await getUserById(db, reservation.userId);
  if (!user) return null;
  try {
    const started = await startDeploymentGroup(
      db,
      actorOf(user, null),
      { leaseId: p.leaseId, hostIds: p.hostIds, spec: runStartOf(reservation.deploy), reservationId: reservation.id },
      { now: p.now },
    );
    if (started.refused.length) getLogger("reservations").warn({ reservationId: reservation.id, groupId: started.groupId, refused: started.refused }, "ready at the start: some hosts could not start their deploy");
    return started.groupId;
  } catch (e) {
    if (!isAppError(e)) throw e;
    getLogger("reservations").warn({ reservationId: reservation.id, err: e.message }, "ready at the start: the deploy could not start");
    return null;
  }
}

/**
 * At the start: has every host's run finished (done: for an install or a cloud-init deploy, the
 * installed system reported in) at or before startsAt? Per host, from the reservation's latest
 * deployment group (a host with no run there is not met); met when every host is.
 */
export async function checkReadyOutcome(db: Db, p: { reservation: ReservationRow; now: Date }): Promise<NonNullable<ReservationPlan["outcome"]>> {
  const { reservation } = p;
  const group = await getLatestGroupOfReservation(db, reservation.id);
  const runs = group ? await listGroupDeployments(db, group.id) : [];
  const names = new Map<string, string>();
  if (group) for (const h of await listGroupHosts(db, { hostIds: group.hostIds, leaseId: group.leaseId })) names.set(h.id, h.name);
  for (const h of await listReservationHostNames(db, reservation.id)) if (!names.has(h.hostId)) names.set(h.hostId, h.name);
  const hosts = [...names].map(([hostId, name]) => {
    const mine = runs.filter((r) => r.hostId === hostId);
    const ready = mine.find((r) => r.state === "done" && r.finishedAt && r.finishedAt.getTime() <= reservation.startsAt.getTime());
    const shown = ready ?? mine.at(-1);
    return { hostId, name, state: shown?.state ?? "not_started", finishedAt: shown?.finishedAt?.toISOString() ?? null, met: !!ready };
  });
  hosts.sort((a, b) => a.name.localeCompare(b.name));
  return { met: hosts.length > 0 && hosts.every((h) => h.met), checkedAt: p.now.toISOString(), hosts };
}
