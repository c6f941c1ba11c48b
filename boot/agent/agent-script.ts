import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

// The deploy agent is kept as one file per action and served as one script: the ramdisk's init
// makes one request (…/agent) and runs what it got with sh. common.sh comes first (the shebang,
// set -u, the run's settings); main.sh last, since it calls what the parts before it define.
export const AGENT_PARTS = ["common.sh", "inventory.sh", "disks.sh", "deploy-image.sh", "wipe.sh", "capture.sh", "main.sh"] as const;

function agentDir(): string {
  // Beside this module in the sources; from the working directory (the project root, where
  // npm start runs) when this module was bundled into .next or .build/.
  const beside = path.dirname(fileURLToPath(import.meta.url));
  return existsSync(path.join(beside, AGENT_PARTS[0])) ? beside : path.join(process.cwd(), "boot", "agent");
}

/** The agent as a machine gets it: the parts in order, a blank line between two. */
export async function readAgentScript(): Promise<string> {
  const dir = agentDir();
  const parts = await Promise.all(AGENT_PARTS.map((p) => readFile(path.join(dir, p), "utf8")));
  return parts.join("\n");
}
