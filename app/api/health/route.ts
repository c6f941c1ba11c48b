// GET /api/health — liveness and database reachability, for the launcher and monitors
import { checkHealth } from "@/lib/runtime/health";
import { ok } from "@/lib/http/handler";

export const dynamic = "force-dynamic";

export async function GET() {
  const health = await checkHealth();
  return ok(health, health.ok ? 200 : 503);
}
