// "Boot diskless" (docs/diskless.md): a deploy_image run that boots the version from a new
// copy-on-write root instead of writing a disk. The run is made here; the roots, their files and
// their NBD exports are lib/diskless's, below this folder.
import fs from "node:fs/promises";
import { getLiveDisklessRoot, insertDisklessRoot, updateDisklessRoot } from "@/db/queries/diskless";
import type { DisklessRootRow } from "@/db/schema";
import type { Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import type { Db } from "../db";
import { disklessBaseOf, overlayPathOf, wakeExportSync } from "../diskless/diskless";
import { getEnv } from "../env";
import { createOverlay, newExportName } from "../exports/nbd";
import { createDeployment } from "./commands";
import { getDeployment, type DeploymentView } from "./views";
import { planFromInput } from "./start-plan";

/**
 * "Boot diskless": a run (action deploy_image, diskless) that boots the version from a new
 * copy-on-write root. A live root of the host is replaced (its overlay deleted): starting over
 * is a reinstall.
 */
export async function startDisklessBoot(db: Db, actor: Actor, hostId: string, input: Record<string, unknown>): Promise<DeploymentView> {
  const plan = await planFromInput(db, actor, hostId, { ...input, action: "deploy_image", diskless: true });
  const base = await disklessBaseOf(db, { imageId: plan.image!.id, version: plan.image!.version });
  const env = getEnv();
  const rootId = crypto.randomUUID();
  const overlayPath = overlayPathOf(rootId);
  await createOverlay({ base: base.path, baseFormat: base.format, overlay: overlayPath });
  let deploymentId: string;
  let replaced: DisklessRootRow | undefined;
  try {
    const d = await createDeployment(db, actor, plan);
    deploymentId = d.id;
    replaced = await db.transaction(async (tx) => {
      const old = await getLiveDisklessRoot(tx, hostId);
      if (old) await updateDisklessRoot(tx, old.id, { releasedAt: new Date() });
      await insertDisklessRoot(tx, {
        id: rootId,
        hostId,
        leaseId: plan.leaseId,
        deploymentId: d.id,
        imageId: plan.image!.id,
        imageVersion: plan.image!.version,
        basePath: base.path,
        overlayPath,
        exportName: newExportName(),
        bindAddress: env.KILN_NBD_BIND_ADDRESS,
      });
      await recordAudit(tx, actor, {
        action: "diskless.boot",
        targetType: "host",
        targetId: hostId,
        summary: `booted ${plan.host.name} diskless from image version ${plan.image!.version} (deployment ${d.id})${old ? "; its previous diskless root was discarded" : ""}`,
        data: { deploymentId: d.id, imageId: plan.image!.id, imageVersion: plan.image!.version, rootId },
      });
      return old;
    });
  } catch (e) {
    await fs.rm(overlayPath, { force: true });
    throw e;
  }
  // After commit: the worker stops the old root's export and starts the new one; the old file goes.
  if (replaced) await fs.rm(replaced.overlayPath, { force: true });
  await wakeExportSync();
  return getDeployment(db, actor, deploymentId);
}
