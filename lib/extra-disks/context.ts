// What a host's templates see of its extra disks (boot/context.ts `extra_disks`). Kept apart from
// ./extra-disks.ts so the boot server, which renders templates, loads no job or export code.
import { listTemplateDisksOfHost } from "@/db/queries/lease-disks";
import type { ExtraDiskInput } from "@/boot/context";
import type { DbOrTx } from "../db";

/** The ready, exported disks of the host's current lease, in order disk1, disk2…; none once it leaves the lease. */
export async function loadExtraDisksContext(db: DbOrTx, hostId: string): Promise<ExtraDiskInput[]> {
  const rows = await listTemplateDisksOfHost(db, hostId);
  return rows
    .filter((r) => r.state === "ready" && r.exportPort !== null && r.exportAddress !== null)
    .map((r) => ({ name: r.name, sizeBytes: r.sizeBytes, host: r.exportAddress!, port: r.exportPort!, exportName: r.exportName }));
}
