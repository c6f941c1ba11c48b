// The machine's side of a run over HTTP, /boot/<mac>/<token>/<file>, written once for both
// servers that answer it: the boot server (lib/boot-server/server.ts, plain node:http) and
// the portal's Next route (app/boot/[mac]/[token]/[file]/route.ts). No Next.js import here:
// the boot server must stay small.
import { serveDeploymentFile } from "./boot-service";
import type { Db } from "../db";
import { isAppError, toErrorBody } from "../errors";
import { findBadString, jsonDepthExceeds, MAX_JSON_BYTES, MAX_JSON_DEPTH } from "../http/body";
import { reportFinished, reportInventory, reportLog, reportProgress } from "../deployments/agent";
import { serveAgentEnv, serveAgentParams, serveAgentScript } from "../deployments/agent-instructions";
import type { AgentAnswer } from "../deployments/deployment-auth";

const TEXT = "text/plain; charset=utf-8";
const NOT_FOUND: AgentAnswer = { status: 404, contentType: TEXT, body: "Not found\n" };
const METHOD_NOT_ALLOWED: AgentAnswer = { status: 405, contentType: TEXT, body: "Machines GET their files and POST their reports here.\n" };

/** A MAC as it arrives in the path (still %-encoded); a malformed escape names no machine. */
function decodeMac(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

const REPORTS = { inventory: reportInventory, progress: reportProgress, log: reportLog } as const;

/** Own keys only: `constructor` or `__proto__` name no report (a plain `in` would find Object.prototype's). */
function isReportName(file: string): file is keyof typeof REPORTS {
  return Object.hasOwn(REPORTS, file);
}

export type AgentRequest = {
  method: string;
  mac: string;
  token: string;
  file: string;
  contentType: string | null;
  /** Reads the body, counted as it streams; throws the payload_too_large AppError past `limit`. */
  readText: (limit: number) => Promise<string>;
};

/**
 * Agents post JSON; installers and shell agents often post plain text (or nothing). Cut at
 * the limit; JSON nesting bounded before parsing; text a log cannot hold (NUL, unpaired
 * surrogates) refused, naming where it was.
 */
async function readReport(r: AgentRequest): Promise<{ body: unknown } | { refused: AgentAnswer }> {
  let text: string;
  try {
    text = await r.readText(MAX_JSON_BYTES);
  } catch (e) {
    // The same answer the portal's gate gives any body over its limit.
    if (isAppError(e)) return { refused: { status: 413, contentType: "application/json", body: JSON.stringify(toErrorBody(e).body) } };
    throw e;
  }
  let body: unknown = text;
  if (r.contentType?.toLowerCase().startsWith("application/json")) {
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

/** GET a run's file (agent script, instructions, install answers) or POST a report. */
export async function answerAgentRequest(db: Db, r: AgentRequest): Promise<AgentAnswer> {
  const mac = decodeMac(r.mac);
  if (mac === null) return NOT_FOUND;
  const { token, file } = r;
  if (r.method === "GET" || r.method === "HEAD") {
    if (file === "agent") return serveAgentScript(db, { mac, token });
    if (file === "agent.json") return serveAgentParams(db, { mac, token });
    if (file === "agent.env") return serveAgentEnv(db, { mac, token });
    return serveDeploymentFile(db, { mac, token, file });
  }
  if (r.method !== "POST") return METHOD_NOT_ALLOWED;
  const isFinish = file === "done" || file === "failed";
  if (!isFinish && !isReportName(file)) return NOT_FOUND;
  const read = await readReport(r);
  if ("refused" in read) return read.refused;
  if (isFinish) return reportFinished(db, { mac, token, outcome: file, body: read.body });
  return REPORTS[file](db, { mac, token, body: read.body });
}
