// How a run's machine is recognised and answered: its MAC and one-time token (in the path for
// the agent's fetches and reports, in `Authorization: Kiln-Run …` for its capture upload), and the
// answers they share (404, 409 once ended). Apart from ./agent.ts, ./agent-instructions.ts and
// ./capture.ts so that none imports another for it.
import { findHostByMac, getDeploymentByTokenHash } from "@/db/queries/boot";
import type { DeploymentRow, HostRow } from "@/db/schema";
import type { Db } from "../db";
import { hashSecret } from "../auth/secrets";
import { isActiveDeployment } from "../hosts/state-machine";
import { normalizeMac } from "../validation/mac";

export type AgentAnswer = { status: number; body: string; contentType: string };

const JSON_TYPE = "application/json";
const TOKEN = /^[A-Za-z0-9_-]{20,100}$/;

export const json = (status: number, value: unknown): AgentAnswer => ({ status, contentType: JSON_TYPE, body: JSON.stringify(value) });

export type Found = { deployment: DeploymentRow; host: HostRow; mac: string };

/** The run behind a MAC and token, whatever its state; null when either does not match. */
export async function findDeploymentByToken(db: Db, p: { mac: string; token: string }): Promise<Found | null> {
  const mac = normalizeMac(p.mac);
  if (!mac || !TOKEN.test(p.token)) return null;
  const deployment = await getDeploymentByTokenHash(db, hashSecret(p.token));
  if (!deployment) return null;
  const found = await findHostByMac(db, mac);
  if (!found || found.host.id !== deployment.hostId) return null;
  return { deployment, host: found.host, mac };
}

/** The Authorization scheme a deploy agent uses on /api/uploads. */
export const DEPLOYMENT_AUTH_SCHEME = "Kiln-Run";

export function deploymentAuthorization(mac: string, token: string): string {
  return `${DEPLOYMENT_AUTH_SCHEME} ${mac} ${token}`;
}

export function isDeploymentAuthorization(header: string | null): header is string {
  return header !== null && header.trim().toLowerCase().startsWith(`${DEPLOYMENT_AUTH_SCHEME.toLowerCase()} `);
}

export const TEXT = "text/plain; charset=utf-8";

export const notFound = (): AgentAnswer => ({ status: 404, contentType: TEXT, body: "Not found\n" });
export const ended = (d: DeploymentRow): AgentAnswer => json(409, { error: { code: "conflict", message: `This run has ended (${d.state}); reports for it are refused.` } });

/** A deployment still answered: active, and its token not expired. */
export function isLive(d: DeploymentRow, now: Date): boolean {
  return isActiveDeployment(d.state) && d.tokenExpiresAt.getTime() > now.getTime();
}
