// Two projects: `unit` (pure code, no services) and `integration` (a real PostgreSQL per
// test file, plus slapd / SMTP where a file needs them). `npm run test:unit`, `npm run test:int`.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { getProcessEnv } from "./lib/env";

const root = path.dirname(fileURLToPath(import.meta.url));

// Never collect from dependencies, build output, Playwright specs or a local Kiln's data directory;
// nor the long real installs (`*.install.test.ts`), which `npm run test:install` runs on their own
// (vitest.install.config.ts).
const IGNORED = ["**/node_modules/**", "**/.next/**", "e2e/**", "**/.kiln/**", "**/.kiln-*/**", "**/.tmp/**", "**/*.install.test.ts"];

export default defineConfig({
  resolve: {
    // tsconfig's `@/*` → project root. A regex, so scoped packages such as `@node-rs/argon2` are untouched.
    alias: [{ find: /^@\//, replacement: `${root}/` }],
  },
  test: {
    environment: "node",
    env: {
      NODE_ENV: "test",
      // Kiln's own JSON logs would drown the test report; TEST_LOG_LEVEL=debug brings them back.
      LOG_LEVEL: getProcessEnv().TEST_LOG_LEVEL ?? "silent",
    },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["**/*.test.ts"],
          exclude: [...IGNORED, "**/*.int.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["**/*.int.test.ts"],
          exclude: IGNORED,
          globalSetup: ["test/harness/global-setup.ts"],
          // next-auth imports "next/server" without an extension, which Node's own ESM loader
          // rejects; bundled through Vite it resolves, so route handlers can be called in tests.
          server: { deps: { inline: ["next-auth"] } },
          // Each file has its own database, so files run side by side; most of their time is
          // spent waiting on PostgreSQL, slapd or a child process, not on the CPU.
          maxWorkers: 3,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
