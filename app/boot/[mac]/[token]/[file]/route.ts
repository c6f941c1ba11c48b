// GET /boot/:mac/:token/(unattended|user-data|meta-data|agent|agent.json|agent.env) — per-deployment files and the deploy agent's script and instructions;
// POST …/(inventory|progress|log|done|failed) — the machine reports (lib/deployments/agent.ts); a captured disk goes through tus at /api/uploads
import { serveDeploymentFile } from "@/lib/boot/boot-service";
import { getAppDb } from "@/lib/db";
import { reportFinished, reportInventory, reportLog, reportProgress, serveAgentEnv, serveAgentParams, serveAgentScript, type AgentAnswer } from "@/lib/deployments/agent";
import { findBadString, jsonDepthExceeds, MAX_JSON_BYTES, MAX_JSON_DEPTH, readBodyText } from "@/lib/http/body";
import { withErrors } from "@/lib/http/handler";
import { isAppError } from "@/lib/errors";

export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ mac: string; token: string; file: string }> };

function answer(a: AgentAnswer): Response {
  return new Response(a.body, { status: a.status, headers: { "content-type": a.contentType, "cache-control": "no-store" } });
}

const TEXT = "text/plain; charset=utf-8";
const NOT_FOUND: AgentAnswer = { status: 404, contentType: TEXT, body: "Not found\n" };

/** A MAC as Next passes it (still %-encoded); a malformed escape names no machine. */
function decodeMac(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/**
 * Agents post JSON; installers and shell agents often post plain text (or nothing). Counted as
 * it streams and cut at the limit (lib/http/body.ts); JSON nesting is bounded before parsing;
 * text a log cannot hold (NUL, unpaired surrogates) is refused, naming where it was.
 */
async function readBody(req: Request): Promise<{ body: unknown } | { refused: AgentAnswer }> {
  let text: string;
  try {
    text = await readBodyText(req, MAX_JSON_BYTES);
  } catch (e) {
    if (isAppError(e)) return { refused: { status: 413, contentType: TEXT, body: "Too large\n" } };
    throw e;
  }
  let body: unknown = text;
  if (req.headers.get("content-type")?.toLowerCase().startsWith("application/json")) {
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) return { refused: { status: 400, contentType: TEXT, body: `The report is nested more than ${MAX_JSON_DEPTH} levels deep.\n` } };
    try {
      body = JSON.parse(text);
    } catch {
      body = { invalidJson: true };
    }
  }
  const bad = findBadString(body);
  if (bad) return { refused: { status: 400, contentType: TEXT, body: `The report's ${bad.field === "body" ? "text" : bad.field} ${bad.reason}.\n` } };
  return { body };
}

export const GET = withErrors(async (_req, ctx: Ctx) => {
  const { mac: rawMac, token, file } = await ctx.params;
  const mac = decodeMac(rawMac);
  if (mac === null) return answer(NOT_FOUND);
  const db = getAppDb();
  if (file === "agent") return answer(await serveAgentScript(db, { mac, token }));
  if (file === "agent.json") return answer(await serveAgentParams(db, { mac, token }));
  if (file === "agent.env") return answer(await serveAgentEnv(db, { mac, token }));
  return answer(await serveDeploymentFile(db, { mac, token, file }));
});

const REPORTS = { inventory: reportInventory, progress: reportProgress, log: reportLog } as const;

/** Own keys only: `constructor` or `__proto__` name no report (a plain `in` would find Object.prototype's). */
function isReportName(file: string): file is keyof typeof REPORTS {
  return Object.hasOwn(REPORTS, file);
}

export const POST = withErrors(async (req, ctx: Ctx) => {
  const { mac: rawMac, token, file } = await ctx.params;
  const mac = decodeMac(rawMac);
  if (mac === null) return answer(NOT_FOUND);
  const isFinish = file === "done" || file === "failed";
  if (!isFinish && !isReportName(file)) return answer(NOT_FOUND);
  const read = await readBody(req);
  if ("refused" in read) return answer(read.refused);
  const { body } = read;
  const db = getAppDb();
  if (isFinish) return answer(await reportFinished(db, { mac, token, outcome: file, body }));
  return answer(await REPORTS[file](db, { mac, token, body }));
});
