// POST /api/account/setup — create the first administrator with the one-time setup link
import { createFirstAdmin } from "@/lib/accounts/first-admin";
import { getAppDb } from "@/lib/db";
import { ok, readJson, withErrors } from "@/lib/http/handler";

export const POST = withErrors(async (req) => ok(await createFirstAdmin(getAppDb(), await readJson(req)), 201));
