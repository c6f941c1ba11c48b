// Bundles the processes `npm start` runs outside Next.js — the launcher, the boot server, the
// worker, the web server's wrapper and the template render thread — into .build/, so they run
// on plain Node without tsx. Why (bench/README.md, "Memory"): Node 24 loads drizzle-orm's ESM
// module graph at ~160 MB of heap and ~2.5 s per process (require() of the same package:
// ~10 MB, 0.3 s); bundled, drizzle is a few scopes in one file. Other packages stay external
// (native modules, Next.js, and anything loaded lazily). Plain JavaScript so that the launcher
// can run it before anything is compiled; takes well under a second.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build, stop } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const BUNDLE_DIR = path.join(root, ".build");

const ENTRIES = {
  start: "scripts/start.ts",
  prepare: "scripts/prepare.ts",
  "boot-server": "scripts/boot-server.ts",
  web: "scripts/web.ts",
  worker: "workers/index.ts",
  "render-worker": "lib/templates/render-worker.ts",
};

/** Bundled: drizzle-orm (the reason for all this). Every other package is imported from node_modules as usual. */
const bundleOnly = {
  name: "external-packages",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("@/") || args.path === "drizzle-orm" || args.path.startsWith("drizzle-orm/")) return undefined;
      return { path: args.path, external: true };
    });
  },
};

/**
 * Builds into a fresh directory, then renames each file into .build/: two launchers starting at
 * once (tests do) never see a half-written file, and a running process's chunks stay in place
 * (their names are content hashes).
 */
export async function bundleServers() {
  const tmp = path.join(BUNDLE_DIR, `.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  await fs.mkdir(tmp, { recursive: true });
  try {
    await build({
      absWorkingDir: root,
      entryPoints: ENTRIES,
      outdir: tmp,
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target: "node22",
      outExtension: { ".js": ".mjs" },
      chunkNames: "chunks/[name]-[hash]",
      sourcemap: "linked",
      tsconfig: path.join(root, "tsconfig.json"),
      plugins: [bundleOnly],
      logLevel: "warning",
    });
    const files = await fs.readdir(tmp, { recursive: true, withFileTypes: true });
    await fs.mkdir(path.join(BUNDLE_DIR, "chunks"), { recursive: true });
    for (const f of files) {
      if (!f.isFile()) continue;
      const from = path.join(f.parentPath, f.name);
      await fs.rename(from, path.join(BUNDLE_DIR, path.relative(tmp, from)));
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await bundleServers();
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
  // esbuild keeps its Go service running for the next build; there is none.
  await stop();
}
