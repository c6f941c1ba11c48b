// GET /api/v1/reservations/:id — a reservation with its hosts, plan and history (its holder, admins); DELETE — cancel it (before or during)
import { idParam, type IdContext } from "@/lib/api/request";
import { requireActor } from "@/lib/auth/guard";
import { getAppDb } from "@/lib/db";
import { ok, withErrors } from "@/lib/http/handler";
import { cancelReservation, getReservation } from "@/lib/reservations/reservations";

const NOT_FOUND = "That reservation does not exist.";

export const GET = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await getReservation(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND)));
});

export const DELETE = withErrors(async (req, ctx: IdContext) => {
  const actor = await requireActor(req);
  return ok(await cancelReservation(getAppDb(), actor, await idParam(ctx, "id", NOT_FOUND)));
});
