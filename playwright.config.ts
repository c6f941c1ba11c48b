// Playwright drives Debian's Chromium (Playwright cannot download browsers here)
// against a real `npm start` launched by e2e/global-setup.ts.
import { defineConfig } from "@playwright/test";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./e2e/support/chromium";
import { getProcessEnv, setEnvForProcess } from "./lib/env";

// The config is evaluated in the runner and again in each worker; workers inherit the
// runner's environment, so the port chosen here once is the port everyone uses.
if (getProcessEnv().KILN_E2E_PORT === undefined) setEnvForProcess({ KILN_E2E_PORT: String(20000 + Math.floor(Math.random() * 20000)) });
const baseURL = `http://127.0.0.1:${getProcessEnv().KILN_E2E_PORT}`;

export default defineConfig({
  testDir: "e2e",
  globalSetup: "./e2e/global-setup.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: getProcessEnv().CI ? [["list"]] : [["list"]],
  outputDir: "test-results",
  use: {
    baseURL,
    browserName: "chromium",
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    // The first-admin link only works on a database without an admin, so it runs first.
    { name: "setup", testMatch: /first-admin\.spec\.ts/ },
    { name: "main", testIgnore: /first-admin\.spec\.ts/, dependencies: ["setup"] },
  ],
});
