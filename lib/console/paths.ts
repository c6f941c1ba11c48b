// Where the browser opens the console's WebSocket. Its own module, without imports, because the
// portal's web server needs only this test to forward the upgrade to the boot server.
export const CONSOLE_PATH_PREFIX = "/console/";

export function isConsolePath(url: string): boolean {
  return url.startsWith(CONSOLE_PATH_PREFIX);
}
