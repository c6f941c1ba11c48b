import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";

/**
 * The session-signing secret: AUTH_SECRET when set, else one generated on first start and
 * kept in the data directory (like Gitea's INTERNAL_TOKEN), so sessions survive restarts
 * and nobody ships a default secret.
 */
export async function ensureAuthSecret(dataDir: string, fromEnv?: string): Promise<string> {
  if (fromEnv) return fromEnv;
  const file = path.join(dataDir, "auth-secret");
  if (existsSync(file)) return (await fs.readFile(file, "utf8")).trim();
  const secret = randomBytes(32).toString("base64url");
  await fs.writeFile(file, secret + "\n", { mode: 0o600, flag: "wx" }).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code !== "EEXIST") throw e;
  });
  return (await fs.readFile(file, "utf8")).trim();
}
