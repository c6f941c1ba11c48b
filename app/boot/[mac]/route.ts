// GET /boot/:mac?hostname=&arch= — iPXE script for this machine: its marked template, or local boot (unknown MACs are recorded as new hosts)
import { answerBootRequest } from "@/lib/boot/boot-service";
import { getAppDb } from "@/lib/db";
import { getRequestContext } from "@/lib/http/context";
import { withErrors } from "@/lib/http/handler";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (req, ctx: { params: Promise<{ mac: string }> }) => {
  const { mac } = await ctx.params;
  const query = new URL(req.url).searchParams;
  const answer = await answerBootRequest(getAppDb(), {
    mac: decodeURIComponent(mac),
    hostnameHint: query.get("hostname"),
    arch: query.get("arch"),
    sourceIp: getRequestContext(req.headers).ip,
  });
  return new Response(answer.body, { status: answer.status, headers: { "content-type": answer.contentType, "cache-control": "no-store" } });
});
