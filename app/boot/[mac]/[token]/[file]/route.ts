// GET /boot/:mac/:token/(unattended|user-data|meta-data|agent|agent.json|agent.env) — per-deployment files and the deploy agent's script and instructions;
// POST …/(inventory|progress|log|done|failed) — the machine reports (lib/deployments/agent.ts); a captured disk goes through tus at /api/uploads
import { serveDeploymentFile } from "@/lib/boot/boot-service";
import { getAppDb } from "@/lib/db";
import { reportFinished, reportInventory, reportLog, reportProgress, serveAgentEnv, serveAgentParams, serveAgentScript, type AgentAnswer } from "@/lib/deployments/agent";
import { MAX_JSON_BYTES, withErrors } from "@/lib/http/handler";

export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ mac: string; token: string; file: string }> };

function answer(a: AgentAnswer): Response {
  return new Response(a.body, { status: a.status, headers: { "content-type": a.contentType, "cache-control": "no-store" } });
}

/** Agents post JSON; installers and shell agents often post plain text (or nothing). */
async function readBody(req: Request): Promise<unknown | { tooLarge: true }> {
  if (Number(req.headers.get("content-length") ?? 0) > MAX_JSON_BYTES) return { tooLarge: true };
  const text = await req.text();
  if (Buffer.byteLength(text) > MAX_JSON_BYTES) return { tooLarge: true };
  if (req.headers.get("content-type")?.toLowerCase().startsWith("application/json")) {
    try {
      return JSON.parse(text);
    } catch {
      return { invalidJson: true };
    }
  }
  return text;
}

export const GET = withErrors(async (_req, ctx: Ctx) => {
  const { mac: rawMac, token, file } = await ctx.params;
  const mac = decodeURIComponent(rawMac);
  const db = getAppDb();
  if (file === "agent") return answer(await serveAgentScript(db, { mac, token }));
  if (file === "agent.json") return answer(await serveAgentParams(db, { mac, token }));
  if (file === "agent.env") return answer(await serveAgentEnv(db, { mac, token }));
  return answer(await serveDeploymentFile(db, { mac, token, file }));
});

const REPORTS = { inventory: reportInventory, progress: reportProgress, log: reportLog } as const;

export const POST = withErrors(async (req, ctx: Ctx) => {
  const { mac: rawMac, token, file } = await ctx.params;
  const mac = decodeURIComponent(rawMac);
  const isReport = file === "done" || file === "failed" || file in REPORTS;
  if (!isReport) return answer({ status: 404, contentType: "text/plain; charset=utf-8", body: "Not found\n" });
  const body = await readBody(req);
  if (body && typeof body === "object" && "tooLarge" in body) return answer({ status: 413, contentType: "text/plain; charset=utf-8", body: "Too large\n" });
  const db = getAppDb();
  if (file === "done" || file === "failed") return answer(await reportFinished(db, { mac, token, outcome: file, body }));
  return answer(await REPORTS[file as keyof typeof REPORTS](db, { mac, token, body }));
});
