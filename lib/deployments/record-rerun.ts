// "Re-run" of a run record: the same pinned image version, template versions, vars and options,
// deployed to hosts the caller holds, as one group (lib/deployments/groups.ts). Its own module
// so records.ts (which createDeployment and finishDeployment import) does not import the group code, which
// imports the run code in turn.
import { getHostRow } from "@/db/queries/hosts";
import { getImageVersionRow } from "@/db/queries/images";
import type { Db } from "../db";
import { AppError } from "../errors";
import { type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import type { Clock } from "../clock";
import { assertHostHolder } from "../access/hosts";
import { parseInput } from "../validation/parse";
import { recordRerunSchema } from "../validation/records";
import { startDeploymentGroup, type HostRefusal } from "./groups";
import { getRecordForRerun, startSpecOf } from "./record-access";

/**
 * POST /api/v1/records/:id/rerun — for the holder of every chosen host (or an administrator).
 * A group belongs to one lease, so hosts of several leases are refused with what to do instead.
 */
export async function rerunRunRecord(db: Db, actor: Actor, id: string, input: unknown, clock: Clock = {}): Promise<{ groupId: string; deploymentIds: string[]; refused: HostRefusal[] }> {
  const { hostIds } = parseInput(recordRerunSchema, input);
  const { record } = await getRecordForRerun(db, actor, id);
  const unique = [...new Set(hostIds)];

  const leases = new Map<string, string[]>();
  for (const hostId of unique) {
    const { leaseId } = await assertHostHolder(db, actor, hostId);
    const host = (await getHostRow(db, hostId))!;
    if (!leaseId) throw new AppError("conflict", `${host.name} is not leased; lease it first, then re-run the record on it. Nothing was started.`);
    leases.set(leaseId, [...(leases.get(leaseId) ?? []), host.name]);
  }
  if (leases.size > 1) {
    const parts = [...leases.values()].map((names) => names.join(", "));
    throw AppError.field("hostIds", `These hosts are in ${leases.size} different leases (${parts.join(" / ")}); a re-run deploys to the hosts of one lease at a time. Nothing was started.`);
  }
  // Refused here with the reason, rather than by each host's run: the bytes the record names must still be there.
  if (record.image) {
    const v = await getImageVersionRow(db, { imageId: record.image.id, version: record.image.version });
    if (!v || v.state !== "ready" || v.sha256 !== record.image.sha256) {
      throw new AppError("conflict", `Version ${record.image.version} of image “${record.image.name}” is gone, so this record cannot be re-run as it was. Nothing was started.`);
    }
  }

  const [leaseId] = [...leases.keys()];
  const result = await startDeploymentGroup(db, actor, { leaseId: leaseId!, hostIds: unique, spec: startSpecOf(record), rerunOfRecordId: id }, clock);
  await recordAudit(db, actor, {
    action: "record.rerun",
    targetType: "run_record",
    targetId: id,
    summary: `re-ran run record ${id} on ${[...leases.values()][0]!.join(", ")}`,
    data: { groupId: result.groupId, deploymentIds: result.deploymentIds },
  });
  return result;
}
