// Starts the real parts the e2e suite talks to — a private slapd, an SMTP server with a
// small JSON API for reading what it received — and then Kiln itself exactly as the
// README says: `npm start`, with an empty KILN_DATA_DIR and no DATABASE_URL, so the
// embedded PostgreSQL path is what every spec exercises.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { startSlapd } from "../test/harness/slapd";
import { startSmtp } from "../test/harness/smtp";
import { GUEST_KILN_URL } from "../test/harness/qemu";
import { randomBytes } from "node:crypto";
import { generateKeyPair } from "../lib/vpn/wireguard";
import { getProcessEnv, setEnvForProcess } from "../lib/env";
import { E2E_VPN_ALLOWED_IPS, E2E_VPN_ENDPOINT, type E2eState } from "./support/state";
import { stopProcessGroup, waitForLine, waitForPostgresStopped } from "./support/processes";

const RATE_LIMIT_PER_ACCOUNT = 5;

export default async function globalSetup(): Promise<() => Promise<void>> {
  const port = Number(getProcessEnv().KILN_E2E_PORT);
  const baseURL = `http://127.0.0.1:${port}`;
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-e2e-"));
  await fs.chmod(tmp, 0o711); // the embedded PostgreSQL runs as the `postgres` user and must enter it
  const dataDir = path.join(tmp, "data");

  const ldap = await startSlapd();
  const smtp = await startSmtp();
  const mailApi = http.createServer((req, res) => {
    const to = new URL(req.url ?? "/", "http://x").searchParams.get("to") ?? "";
    const mails = (to ? smtp.mailsTo(to) : smtp.messages).map((m) => ({ to: m.to, subject: m.subject, text: m.text }));
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(mails));
  });
  await new Promise<void>((r) => mailApi.listen(0, "127.0.0.1", () => r()));
  const mailPort = (mailApi.address() as { port: number }).port;

  // The gateway's key pair and token: e2e/ui/lab-access-done-when.spec.ts runs a real gateway with them.
  const gatewayKeys = generateKeyPair();
  const gatewayToken = `e2e-gw-${randomBytes(16).toString("hex")}`;
  const env: NodeJS.ProcessEnv = {
    ...getProcessEnv(),
    PORT: String(port),
    KILN_HOST: "127.0.0.1",
    KILN_DATA_DIR: dataDir,
    KILN_URL: baseURL,
    KILN_BOOT_PORT: String(port + 1),
    // QEMU guests reach Kiln through a guestfwd at this address (test/harness/qemu.ts).
    KILN_BOOT_URL: GUEST_KILN_URL,
    SMTP_URL: smtp.url,
    MAIL_FROM: "Kiln <kiln@lab.example>",
    ...ldap.kilnEnv(),
    KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: String(RATE_LIMIT_PER_ACCOUNT),
    KILN_RATE_LIMIT_SIGNIN_PER_IP: "10000",
    KILN_RATE_LIMIT_REGISTER_PER_IP: "10000",
    KILN_RATE_LIMIT_RESET_PER_IP: "10000",
    LOG_LEVEL: "warn",
    // The "machine never network-boots" spec waits for this deadline; real QEMU machines ask
    // for their boot script within ~10 s of power-on here.
    KILN_STEP_TIMEOUTS: "boot=45",
    // The power spec watches the worker notice a machine that stopped by itself.
    KILN_POWER_POLL_SECONDS: "5",
    // WireGuard on (e2e/ui/vpn.spec.ts, lab-access-done-when.spec.ts): a real gateway key pair. The
    // machines' network and the endpoint's address exist only in the namespaces the done-when
    // spec creates (test/harness/wireguard-lab.ts); it syncs its gateway with the token.
    KILN_VPN_ENDPOINT: E2E_VPN_ENDPOINT,
    KILN_VPN_SERVER_PUBLIC_KEY: gatewayKeys.publicKey,
    KILN_VPN_ALLOWED_IPS: E2E_VPN_ALLOWED_IPS,
    KILN_VPN_FOLLOW_LEASES: "true",
    KILN_VPN_GATEWAY_TOKEN: gatewayToken,
    // Directory accounts (e2e/ui/directory.spec.ts): Kiln writes people's entries into the same
    // slapd's ou=people as the rootdn; seeded LDAP people keep their own entries.
    KILN_DIRECTORY_URL: ldap.url,
    KILN_DIRECTORY_BIND_DN: ldap.bindDn,
    KILN_DIRECTORY_BIND_PASSWORD: ldap.bindPassword,
    KILN_DIRECTORY_PEOPLE_DN: `ou=people,${ldap.baseDn}`,
  };
  delete env.DATABASE_URL;

  const logFile = path.join(tmp, "kiln.log");
  const log = createWriteStream(logFile);
  const kiln = spawn("npm", ["start"], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  kiln.stdout!.pipe(log);
  kiln.stderr!.pipe(log);
  const setupLine = waitForLine(kiln, /\/setup\/[A-Za-z0-9_-]+/, 240_000, logFile);
  const setupLink = (await setupLine).match(/https?:\/\/\S+\/setup\/[A-Za-z0-9_-]+/)![0];

  const state: E2eState = {
    baseURL,
    bootPort: port + 1,
    dataDir,
    logFile,
    setupLink,
    mailApi: `http://127.0.0.1:${mailPort}`,
    ldap: {
      admin: { uid: ldap.users.alice.uid, password: ldap.users.alice.password, mail: ldap.users.alice.mail! },
      user: { uid: ldap.users.bob.uid, password: ldap.users.bob.password, mail: ldap.users.bob.mail! },
    },
    rateLimitPerAccount: RATE_LIMIT_PER_ACCOUNT,
    directory: { url: ldap.url, bindDn: ldap.bindDn, bindPassword: ldap.bindPassword, peopleDn: `ou=people,${ldap.baseDn}` },
    vpnGateway: { privateKey: gatewayKeys.privateKey, publicKey: gatewayKeys.publicKey, token: gatewayToken },
  };
  const stateFile = path.join(tmp, "state.json");
  await fs.writeFile(stateFile, JSON.stringify(state, null, 2));
  setEnvForProcess({ KILN_E2E_STATE: stateFile });

  return async () => {
    await stopProcessGroup(kiln, 30_000);
    await waitForPostgresStopped(dataDir);
    await new Promise<void>((r) => mailApi.close(() => r()));
    await smtp.stop();
    await ldap.stop();
    if (!getProcessEnv().KILN_E2E_KEEP) await fs.rm(tmp, { recursive: true, force: true }).catch(() => {});
  };
}
