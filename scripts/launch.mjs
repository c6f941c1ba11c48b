// `npm start`: bundles the launcher and the processes it supervises (scripts/bundle.mjs), then
// runs the launcher (scripts/start.ts) from that bundle on plain Node. `npm run dev` runs the
// sources through tsx instead.
import { bundleServers, BUNDLE_DIR } from "./bundle.mjs";
import path from "node:path";
import { pathToFileURL } from "node:url";

try {
  await bundleServers();
} catch (e) {
  process.stderr.write(`[kiln] compiling Kiln's server processes failed: ${e.message}\n`);
  process.exit(1);
}
const launcher = await import(pathToFileURL(path.join(BUNDLE_DIR, "start.mjs")).href);
launcher.runLauncher();
