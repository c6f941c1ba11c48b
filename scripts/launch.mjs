// `npm start`: bundles the launcher and the processes it supervises (scripts/bundle.mjs, in a
// child process so that neither esbuild's JavaScript nor its Go service stays in the launcher's
// memory), then runs the launcher (scripts/start.ts) from that bundle on plain Node.
// `npm run dev` runs the sources through tsx instead.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bundled = spawnSync(process.execPath, [path.join(root, "scripts", "bundle.mjs")], { cwd: root, stdio: ["ignore", "inherit", "pipe"], encoding: "utf8" });
if (bundled.status !== 0) {
  const why = (bundled.stderr || bundled.error?.message || `exit ${bundled.status}`).trim().split("\n").slice(0, 20).join("\n");
  process.stderr.write(`[kiln] compiling Kiln's server processes failed:\n${why}\n`);
  process.exit(1);
}
const launcher = await import(pathToFileURL(path.join(root, ".build", "start.mjs")).href);
launcher.runLauncher();
