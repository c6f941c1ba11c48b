// The npm registry reachable here serves the Linux builds of a few native packages but
// not their macOS/Windows/other builds (404). `npm install` then leaves those optional
// packages out of package-lock.json, and `npm ci` refuses the lockfile as out of sync.
// This script records each such package in the lockfile with its os/cpu, without a
// tarball: `npm ci` sees a complete lockfile and skips them on Linux, as it would anyway.
// Run it after any `npm install` that rewrites the lockfile: node scripts/lock-foreign-platforms.mjs
import fs from "node:fs";

const lockPath = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(fs.readFileSync(lockPath, "utf8"));
const packages = lock.packages;

const PLATFORM = [
  [/android-arm64/, ["android"], ["arm64"]],
  [/darwin-arm64/, ["darwin"], ["arm64"]],
  [/darwin-x64/, ["darwin"], ["x64"]],
  [/freebsd-x64/, ["freebsd"], ["x64"]],
  [/linux-arm-gnueabihf/, ["linux"], ["arm"]],
  [/wasm32-wasi/, undefined, ["wasm32"]],
  [/win32-arm64/, ["win32"], ["arm64"]],
  [/win32-x64/, ["win32"], ["x64"]],
];

let added = 0;
for (const [key, meta] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const entry = `node_modules/${name}`;
    if (packages[entry] || packages[`${key}/${entry}`]) continue;
    const platform = PLATFORM.find(([re]) => re.test(name));
    if (!platform) {
      console.error(`lock-foreign-platforms: ${name} is missing from the lockfile and is not a known foreign-platform build`);
      process.exitCode = 1;
      continue;
    }
    const [, os, cpu] = platform;
    packages[entry] = { version, optional: true, ...(os ? { os } : {}), cpu };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
fs.writeFileSync(lockPath, JSON.stringify(lock, null, 2) + "\n");
console.log(`lock-foreign-platforms: recorded ${added} foreign-platform optional packages`);
