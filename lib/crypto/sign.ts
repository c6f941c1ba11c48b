// HMACs under KILN_SECRET_KEY. Each use has its own label, so a value signed for one purpose
// (a run's token, a console ticket) can never pass as another's.
import { createHmac } from "node:crypto";
import { getEnv } from "../env";

/** KILN_SECRET_KEY, which `npm start` generates into the data directory when it is not set. */
export function getSecretKey(): string {
  const k = getEnv().KILN_SECRET_KEY;
  if (!k) throw new Error("KILN_SECRET_KEY is not set (npm start generates one into the data directory).");
  return k;
}

/** base64url HMAC-SHA256 of `label:body`, under `secret` (tests) or KILN_SECRET_KEY. */
export function signLabelled(label: string, body: string, secret?: string): string {
  return createHmac("sha256", secret ?? getSecretKey()).update(`${label}:${body}`).digest("base64url");
}
