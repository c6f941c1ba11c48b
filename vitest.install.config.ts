// `npm run test:install`: the real OS installs (`*.install.test.ts`), which take tens of minutes
// under software emulation and so stay out of `npm test`. Same harness as the integration tests
// (a real PostgreSQL per file, test/harness/global-setup.ts); one file at a time, since each
// install keeps the machine's cores busy. The time each phase took is printed (console.info).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { getProcessEnv } from "./lib/env";

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  resolve: { alias: [{ find: /^@\//, replacement: `${root}/` }] },
  test: {
    name: "install",
    environment: "node",
    env: { NODE_ENV: "test", LOG_LEVEL: getProcessEnv().TEST_LOG_LEVEL ?? "silent" },
    include: ["**/*.install.test.ts"],
    exclude: ["**/node_modules/**", "**/.next/**", "e2e/**", "**/.kiln/**", "**/.kiln-*/**", "**/.tmp/**"],
    globalSetup: ["test/harness/global-setup.ts"],
    server: { deps: { inline: ["next-auth"] } },
    maxWorkers: 1,
    testTimeout: 3 * 3600_000,
    hookTimeout: 600_000,
  },
});
