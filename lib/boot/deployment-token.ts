import { createHmac } from "node:crypto";
import { getEnv } from "../env";

/**
 * A deployment's one-time token: HMAC-SHA256 of its id under KILN_SECRET_KEY (256 bits).
 * Derived rather than stored, so the database keeps only its sha256 (for lookup) and
 * the system template can still put it into the URLs it gives the machine.
 */
export function deploymentToken(deploymentId: string): string {
  const key = getEnv().KILN_SECRET_KEY;
  if (!key) throw new Error("KILN_SECRET_KEY is not set (npm start generates one into the data directory).");
  return createHmac("sha256", key).update(`kiln-deployment:${deploymentId}`).digest("base64url");
}
