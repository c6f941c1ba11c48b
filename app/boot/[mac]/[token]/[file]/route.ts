// GET /boot/:mac/:token/(unattended|user-data|meta-data|agent|agent.json|agent.env) — per-deployment files and the deploy agent's script and instructions;
// POST …/(inventory|progress|log|done|failed) — the machine reports (lib/deployments/agent.ts); a captured disk goes through tus at /api/uploads.
// Machines normally reach these through the boot server (lib/boot-server/server.ts); this route answers the same for code that runs Next alone.
import { getAppDb } from "@/lib/db";
import { answerAgentRequest } from "@/lib/boot/agent-http";
import { readBodyText } from "@/lib/http/body";
import { withErrors } from "@/lib/http/handler";

export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ mac: string; token: string; file: string }> };

async function handle(req: Request, ctx: Ctx): Promise<Response> {
  const { mac, token, file } = await ctx.params;
  const a = await answerAgentRequest(getAppDb(), { method: req.method, mac, token, file, contentType: req.headers.get("content-type"), readText: (limit) => readBodyText(req, limit) });
  return new Response(a.body, { status: a.status, headers: { "content-type": a.contentType, "cache-control": "no-store" } });
}

export const GET = withErrors(handle);
export const POST = withErrors(handle);
