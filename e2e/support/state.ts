// What global setup hands to the specs (they run in other processes): read from a JSON file.
import fs from "node:fs";
import { getProcessEnv } from "../../lib/env";

export type E2eState = {
  baseURL: string;
  /** The boot server's port (machines' plane); QEMU machines reach Kiln through it. */
  bootPort: number;
  dataDir: string;
  logFile: string;
  setupLink: string;
  mailApi: string;
  ldap: {
    admin: { uid: string; password: string; mail: string };
    user: { uid: string; password: string; mail: string };
  };
  rateLimitPerAccount: number;
  /** The writable directory Kiln keeps people's entries in (the same slapd, as its rootdn). */
  directory: { url: string; bindDn: string; bindPassword: string; peopleDn: string };
  /** The lab gateway's side of WireGuard: Kiln has the public key; a test's gateway holds the private one. */
  vpnGateway: { privateKey: string; publicKey: string; token: string };
};

export const ADMIN = { email: "root@lab.example", password: "first admin passphrase" };
export const PASSWORD = "a long enough passphrase";
/** The WireGuard endpoint the e2e Kiln is configured with (global-setup.ts): a gateway listens there only inside the namespaces lab-access-done-when.spec.ts makes (its client resolves the name there). */
export const E2E_VPN_ENDPOINT = "vpn.lab.example:51820";
/** The machines' network the e2e Kiln's VPN reaches (KILN_VPN_ALLOWED_IPS): only inside test namespaces. */
export const E2E_VPN_ALLOWED_IPS = "10.77.1.0/24";
/** KILN_VPN_ADDRESS_RANGE's default, which the e2e Kiln keeps. */
export const E2E_VPN_RANGE = "10.250.0.0/24";

export function readState(): E2eState {
  const file = getProcessEnv().KILN_E2E_STATE;
  if (!file) throw new Error("KILN_E2E_STATE is not set: run the e2e suite through `npx playwright test`.");
  return JSON.parse(fs.readFileSync(file, "utf8")) as E2eState;
}

export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}@lab.example`;
}
