export const CHROMIUM_PATH = "/usr/bin/chromium";

// Headless flags for running as root on a machine without outside network: the
// background-networking flags stop Chromium from dialling out, and the resolver rule
// keeps every page on 127.0.0.1.
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];
