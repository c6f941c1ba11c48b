import { signLabelled } from "../crypto/sign";

/**
 * A deployment's one-time token: HMAC-SHA256 of its id under KILN_SECRET_KEY (256 bits).
 * Derived rather than stored, so the database keeps only its sha256 (for lookup) and
 * the system template can still put it into the URLs it gives the machine.
 */
export function deploymentToken(deploymentId: string): string {
  return signLabelled("kiln-deployment", deploymentId);
}
