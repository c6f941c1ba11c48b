// The project's root directory, found the same way from the sources (tsx, vitest) and from the
// bundles under .build/ that `npm start` runs (scripts/bundle.ts): the nearest directory above
// this module holding Kiln's package.json. Files that ship beside the code (migrations, built-in
// templates, the agent and ramdisk scripts) are found from here, not from import.meta.url,
// which points into .build/ or .next/ once bundled.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let found: string | undefined;

function isKilnRoot(dir: string): boolean {
  const file = path.join(dir, "package.json");
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { name?: string }).name === "kiln";
  } catch {
    return false;
  }
}

export function projectRoot(): string {
  if (found) return found;
  const starts: string[] = [];
  try {
    starts.push(path.dirname(fileURLToPath(import.meta.url)));
  } catch {
    /* not a file: URL (Next's server bundle) */
  }
  starts.push(process.cwd());
  for (const start of starts) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      if (isKilnRoot(dir)) return (found = dir);
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error(`Kiln's project directory was not found above ${starts.join(" or ")}`);
}

/** A file or directory shipped with Kiln, by its path from the project root. */
export function projectPath(...parts: string[]): string {
  return path.join(projectRoot(), ...parts);
}
