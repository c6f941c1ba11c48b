// Power actions on a host: pick its driver, open its sealed secrets, run, record. Holders
// may power the hosts they hold; admins any host. The deploy jobs call runPower directly.
import { getHostRow, insertHostEvents, listInterfaces } from "@/db/queries/hosts";
import { upsertHostPower } from "@/db/queries/power";
import type { HostRow } from "@/db/schema";
import type { Db, DbOrTx } from "../db";
import { AppError } from "../errors";
import { assertAdmin, type Actor } from "../access/actor";
import { recordAudit } from "../audit/audit";
import { assertHostHolder } from "../access/hosts";
import { openJson } from "../crypto/secret-box";
import { parseInput } from "../validation/parse";
import { powerActionSchema } from "../validation/power";
import { POWER_DRIVERS } from "./drivers";
import { PowerError, type PowerAction, type PowerResult } from "./types";

export async function runPower(
  db: DbOrTx,
  host: HostRow,
  action: PowerAction,
  opts: { log?: (line: string) => void; bootFromNetwork?: boolean; record?: boolean } = {},
): Promise<PowerResult> {
  const driver = POWER_DRIVERS[host.powerDriver];
  if (!driver) throw new PowerError(`Unknown power driver “${host.powerDriver}” on ${host.name}.`);
  const ifaces = await listInterfaces(db, [host.id]);
  let secrets: Record<string, string> = {};
  if (host.powerSecrets) {
    try {
      secrets = openJson<Record<string, string>>(host.powerSecrets);
    } catch {
      throw new PowerError(`The stored power password of ${host.name} cannot be read (was KILN_SECRET_KEY changed?). Set it again.`);
    }
  }
  // The badge follows an action at once instead of at the next poll. Drivers that cannot read
  // a state keep their "unknown, because…" (a sent packet says nothing about the machine).
  const record = driver.reportsState && opts.record !== false;
  let result: PowerResult;
  try {
    result = await driver.run(action, {
      host: { name: host.name, macs: ifaces.map((i) => i.mac), pxeMac: ifaces.find((i) => i.isPxe)?.mac ?? ifaces[0]?.mac ?? null },
      params: host.powerParams,
      secrets,
      log: opts.log ?? (() => {}),
      bootFromNetwork: opts.bootFromNetwork,
    });
  } catch (e) {
    // A failed reading is a reading: "unknown", with why (as the poll records it). A failed
    // action says nothing about the state, which stays as last read.
    if (record && action === "status" && e instanceof PowerError) await upsertHostPower(db, [{ hostId: host.id, state: "unknown", message: e.message, checkedAt: new Date() }]);
    throw e;
  }
  if (record) await upsertHostPower(db, [{ hostId: host.id, state: result.state, message: result.message, checkedAt: new Date() }]);
  return result;
}

/** POST /api/v1/hosts/:id/power — a holder or admin switches a host on/off/cycle or asks its state. */
export async function powerHost(db: Db, actor: Actor, hostId: string, input: unknown): Promise<PowerResult & { log: string[] }> {
  const { action, bootFromNetwork } = parseInput(powerActionSchema, input);
  await assertHostHolder(db, actor, hostId);
  const host = (await getHostRow(db, hostId))!;
  const network = bootFromNetwork === true && (action === "on" || action === "cycle");
  if (network && !POWER_DRIVERS[host.powerDriver]?.networkBoot) {
    throw AppError.field("bootFromNetwork", `${host.name}'s power driver (${host.powerDriver}) cannot choose the next boot device; set the machine to boot from the network in its firmware instead.`);
  }
  const log: string[] = [];
  try {
    const result = await runPower(db, host, action, { log: (l) => log.push(l), bootFromNetwork: network });
    if (action !== "status") {
      const how = network ? " with the next boot from the network" : "";
      await insertHostEvents(db, [{ hostId, kind: "power", actorUserId: actor.user?.id ?? null, message: `power ${action}${how} (${host.powerDriver}): ${result.message}` }]);
      await recordAudit(db, actor, { action: "host.power", targetType: "host", targetId: hostId, summary: `power ${action}${how} on ${host.name}` });
    }
    return { ...result, log };
  } catch (e) {
    if (e instanceof PowerError) throw new AppError("unavailable", e.message, { log });
    throw e;
  }
}

/** The admin's "test" button: checks the settings by asking for the power state. */
export async function testPowerSettings(db: Db, actor: Actor, hostId: string) {
  assertAdmin(actor, "Only administrators test power settings.");
  const host = await getHostRow(db, hostId);
  if (!host) throw new AppError("not_found", "That host does not exist.");
  const log: string[] = [];
  try {
    const result = await runPower(db, host, "status", { log: (l) => log.push(l) });
    return { ok: true, driver: host.powerDriver, ...result, log };
  } catch (e) {
    if (e instanceof PowerError) return { ok: false, driver: host.powerDriver, state: "unknown" as const, message: e.message, log };
    throw e;
  }
}
