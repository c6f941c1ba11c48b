import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";

/**
 * A secret from the environment when set, else one generated on first start and kept in
 * the data directory (like Gitea's INTERNAL_TOKEN), so it survives restarts and nobody
 * ships a default: the session-signing AUTH_SECRET and the at-rest KILN_SECRET_KEY.
 */
export async function ensureSecret(dataDir: string, name: string, fromEnv?: string): Promise<string> {
  if (fromEnv) return fromEnv;
  const file = path.join(dataDir, name);
  if (existsSync(file)) return (await fs.readFile(file, "utf8")).trim();
  const secret = randomBytes(32).toString("base64url");
  await fs.writeFile(file, secret + "\n", { mode: 0o600, flag: "wx" }).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code !== "EEXIST") throw e;
  });
  return (await fs.readFile(file, "utf8")).trim();
}
