// GET /boot/:mac/:token/(unattended|user-data|meta-data) — per-deployment files; POST …/(done|failed) — the install reports its end
import { reportDeploymentFinished, serveDeploymentFile } from "@/lib/boot/boot-service";
import { getAppDb } from "@/lib/db";
import { withErrors } from "@/lib/http/handler";

export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ mac: string; token: string; file: string }> };

function text(body: string, status: number, contentType = "text/plain; charset=utf-8"): Response {
  return new Response(body, { status, headers: { "content-type": contentType, "cache-control": "no-store" } });
}

export const GET = withErrors(async (_req, ctx: Ctx) => {
  const { mac, token, file } = await ctx.params;
  const answer = await serveDeploymentFile(getAppDb(), { mac: decodeURIComponent(mac), token, file });
  return text(answer.body, answer.status, answer.contentType);
});

export const POST = withErrors(async (req, ctx: Ctx) => {
  const { mac, token, file } = await ctx.params;
  if (file !== "done" && file !== "failed") return text("Not found\n", 404);
  // Installers post whatever they like (often nothing); a failure may carry a reason as text.
  const reason = file === "failed" ? (await req.text()).slice(0, 2000) : undefined;
  const answer = await reportDeploymentFinished(getAppDb(), { mac: decodeURIComponent(mac), token, outcome: file, reason });
  return text(answer.body, answer.status);
});
