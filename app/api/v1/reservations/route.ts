// GET /api/v1/reservations — the caller's reservations (admins: scope=all, filters poolId/state/from/to); POST — reserve hosts ahead
import { parseQuery } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";
import { createReservation, listReservations } from "@/lib/reservations/reservations";
import { reservationListQuerySchema } from "@/lib/validation/reservations";

export const GET = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await listReservations(getAppDb(), actor, parseQuery(reservationListQuerySchema, req)));
});

export const POST = withErrors(async (req) => {
  const actor = await requireActor(req);
  return ok(await createReservation(getAppDb(), actor, await readJson(req)), 201);
});
