// A Kiln of its own for a spec: `npm start` on a private data directory (embedded PostgreSQL,
// web and worker), with no outside database, mail or LDAP inherited from the test's environment.
import { spawn, type ChildProcess } from "node:child_process";
import { getProcessEnv } from "../../lib/env";

export type Kiln = { child: ChildProcess; output: () => string; env: NodeJS.ProcessEnv };

/** Starts it detached (its own process group, for stopProcessGroup) and keeps its output. */
export function startKiln(dataDir: string, port: number, logLevel = "warn", extraEnv: Record<string, string> = {}): Kiln {
  const env: NodeJS.ProcessEnv = { ...getProcessEnv(), KILN_DATA_DIR: dataDir, PORT: String(port), KILN_HOST: "127.0.0.1", LOG_LEVEL: logLevel };
  for (const k of ["DATABASE_URL", "SMTP_URL", "LDAP_URL", "LDAP_BASE_DN", "LDAP_BIND_DN", "LDAP_BIND_PASSWORD", "LDAP_ADMIN_GROUP_DN", "KILN_URL", "KILN_BOOT_URL", "KILN_BOOT_PORT"]) delete env[k];
  Object.assign(env, extraEnv);
  const child = spawn("npm", ["start"], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  return { child, output: () => output, env };
}
