// The OpenVPN option end to end: a real OpenVPN server with openvpn-auth-ldap configured as
// docs/lab-access.md says, checking passwords against a real slapd whose entry carries the
// userPassword Kiln's directory code writes ({CRYPT}$6$), and a real OpenVPN client started from
// the profile renderOpenVpnProfile produced. Server and client run in network namespaces this
// test creates (10.77.x.x inside them only); the server's LDAP connection reaches the test's slapd
// on 127.0.0.1 through a unix-socket bridge (socat), so no interface outside the namespaces exists.
// Locking the entry (what disabling does) refuses new sign-ins at once; a tunnel already open is
// asked again only at the server's next renegotiation (reneg-sec, shortened here), as
// docs/lab-access.md says. Each refusal is checked in the server's log, so it is the plugin's.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashDirectoryPassword, lockDirectoryPassword } from "@/lib/directory/password";
import { canBindAs, startSlapd, type SlapdHandle } from "@/test/harness/slapd";
import { renderOpenVpnProfile } from "./openvpn";

const skipReason =
  process.getuid?.() !== 0 ? "not root (network namespaces need it)" : !existsSync("/dev/net/tun") ? "/dev/net/tun is missing (OpenVPN needs it)" : null;
if (skipReason) console.warn(`[lib/vpn/openvpn.int.test.ts] skipping the real OpenVPN sign-in: ${skipReason}`);

const run = promisify(execFile);
const id = randomBytes(3).toString("hex");
const NS = { client: `kiln-ovpn-c-${id}`, server: `kiln-ovpn-s-${id}` };
const SERVER = { underlay: "10.77.0.1", lab: "10.77.1.1" };
const UID = "vpnuser";
const PASSWORD = `pw-${randomBytes(8).toString("hex")}`;
const RENEG_SECONDS = 6;

const children: ChildProcess[] = [];
const createdNs: string[] = [];
let dir = "";
let ldap: SlapdHandle | undefined;
let userDn = "";
let profile = "";

const inNs = (ns: string, ...args: string[]) => execFileSync("ip", ["netns", "exec", ns, ...args], { timeout: 10_000, stdio: ["ignore", "pipe", "pipe"] }).toString();
const ipIn = (ns: string, ...args: string[]) => execFileSync("ip", ["-n", ns, ...args], { timeout: 10_000, stdio: ["ignore", "pipe", "pipe"] }).toString();

function start(cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "ignore"] });
  children.push(child);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGKILL");
  await exited;
}

/** Waits until the log has one of the lines; returns which, or null after the timeout. */
async function waitForLog(file: string, patterns: RegExp[], ms: number): Promise<RegExp | null> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const text = await fs.readFile(file, "utf8").catch(() => "");
    const hit = patterns.find((p) => p.test(text));
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

/** The peers (address:port) the server's log says the plugin turned down, in order. */
async function refusedPeers(): Promise<string[]> {
  const text = await fs.readFile(path.join(dir, "server.log"), "utf8").catch(() => "");
  // Before its first sign-in succeeds a peer is logged as address:port, after it as vpnuser/address:port.
  return [...text.matchAll(/ (?:vpnuser\/)?([\d.]+:\d+) TLS Auth Error: Auth Username\/Password verification failed/g)].map((m) => m[1]!);
}

async function setPassword(value: string): Promise<void> {
  const ldif = path.join(dir, "password.ldif");
  await fs.writeFile(ldif, `dn: ${userDn}\nchangetype: modify\nreplace: userPassword\nuserPassword: ${value}\n`);
  await run("ldapmodify", ["-x", "-H", ldap!.url, "-D", ldap!.bindDn, "-w", ldap!.bindPassword, "-f", ldif]);
}

/** The client from the downloaded profile; the password as a person would type it (a file here). */
async function connect(name: string): Promise<{ outcome: "connected" | "refused" | "timeout"; log: string; child: ChildProcess }> {
  const profileFile = path.join(dir, "kiln.ovpn");
  await fs.writeFile(profileFile, profile);
  const pass = path.join(dir, `${name}.pass`);
  await fs.writeFile(pass, `${UID}\n${PASSWORD}\n`, { mode: 0o600 });
  const log = path.join(dir, `${name}.log`);
  const child = start("ip", [
    "netns", "exec", NS.client, "openvpn", "--config", profileFile,
    // The test's own: a named device, no kernel DCO, the password from a file, one try.
    "--dev", `kvoc${id}`, "--dev-type", "tun", "--disable-dco", "--auth-user-pass", pass, "--auth-retry", "none", "--log", log, "--verb", "3",
  ]);
  const hit = await waitForLog(log, [/Initialization Sequence Completed/, /AUTH_FAILED/], 20_000);
  const outcome = hit === null ? "timeout" : /Initialization/.test(hit.source) ? "connected" : "refused";
  // A refused client ends itself (--auth-retry none): wait for it, so no retry of it is left running.
  if (outcome === "refused") await Promise.race([new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once("exit", r))), new Promise((r) => setTimeout(r, 5000))]);
  const text = await fs.readFile(log, "utf8").catch(() => "");
  return { outcome, log: text, child };
}

describe.skipIf(skipReason !== null)("OpenVPN with the directory (openvpn-auth-ldap)", () => {
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-ovpn-"));
    ldap = await startSlapd();
    userDn = `uid=${UID},ou=people,${ldap.baseDn}`;
    const entry = path.join(dir, "entry.ldif");
    // As Kiln's directory code writes an entry (inetOrgPerson + posixAccount, {CRYPT}$6$ password).
    await fs.writeFile(
      entry,
      [
        `dn: ${userDn}`, "objectClass: inetOrgPerson", "objectClass: posixAccount", `uid: ${UID}`, "cn: VPN User", "sn: User",
        "uidNumber: 20001", "gidNumber: 20001", `homeDirectory: /home/${UID}`, `userPassword: ${hashDirectoryPassword(PASSWORD, "crypt-sha512")}`, "",
      ].join("\n"),
    );
    await run("ldapadd", ["-x", "-H", ldap.url, "-D", ldap.bindDn, "-w", ldap.bindPassword, "-f", entry]);

    // A CA and a server certificate (serverAuth, as remote-cert-tls server requires).
    const ssl = (...args: string[]) => run("openssl", args, { cwd: dir });
    await ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Kiln test CA");
    await ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=vpn.lab.test");
    await fs.writeFile(path.join(dir, "server.ext"), "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
    await ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext");

    for (const ns of Object.values(NS)) {
      execFileSync("ip", ["netns", "add", ns]);
      createdNs.push(ns);
      ipIn(ns, "link", "set", "lo", "up");
    }
    ipIn(NS.client, "link", "add", `kvoa${id}`, "type", "veth", "peer", "name", `kvob${id}`, "netns", NS.server);
    ipIn(NS.client, "addr", "add", "10.77.0.2/30", "dev", `kvoa${id}`);
    ipIn(NS.client, "link", "set", `kvoa${id}`, "up");
    ipIn(NS.server, "addr", "add", `${SERVER.underlay}/30`, "dev", `kvob${id}`);
    ipIn(NS.server, "link", "set", `kvob${id}`, "up");
    // The lab network behind the server, pushed to clients as a route.
    // (A veth pair with both ends here: the dummy driver is not always there.)
    ipIn(NS.server, "link", "add", `kvol${id}`, "type", "veth", "peer", "name", `kvom${id}`);
    ipIn(NS.server, "addr", "add", `${SERVER.lab}/24`, "dev", `kvol${id}`);
    ipIn(NS.server, "link", "set", `kvol${id}`, "up");
    ipIn(NS.server, "link", "set", `kvom${id}`, "up");

    // slapd listens on the host's 127.0.0.1; the server's namespace has its own loopback. Bridge
    // the two through a unix socket: 127.0.0.1:3890 inside → the socket → slapd.
    const sock = path.join(dir, "ldap.sock");
    start("socat", [`UNIX-LISTEN:${sock},fork`, `TCP:127.0.0.1:${ldap.port}`]);
    for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    start("ip", ["netns", "exec", NS.server, "socat", "TCP-LISTEN:3890,bind=127.0.0.1,reuseaddr,fork", `UNIX-CONNECT:${sock}`]);

    // The server's files, as docs/lab-access.md gives them (paths, names and addresses of this test).
    await fs.writeFile(
      path.join(dir, "auth-ldap.conf"),
      [
        "<LDAP>",
        "\tURL             ldap://127.0.0.1:3890",
        `\tBindDN          ${ldap.bindDn}`,
        `\tPassword        ${ldap.bindPassword}`,
        "\tTimeout         15",
        "\tTLSEnable       no",
        "</LDAP>",
        "<Authorization>",
        `\tBaseDN          "ou=people,${ldap.baseDn}"`,
        '\tSearchFilter    "(&(uid=%u)(objectClass=posixAccount))"',
        "\tRequireGroup    false",
        "</Authorization>",
        "",
      ].join("\n"),
    );
    await fs.writeFile(
      path.join(dir, "server.conf"),
      [
        "port 1194", "proto udp", `dev kvos${id}`, "dev-type tun", `ca ${dir}/ca.crt`, `cert ${dir}/server.crt`, `key ${dir}/server.key`, "dh none",
        "topology subnet", "server 10.77.251.0 255.255.255.0", 'push "route 10.77.1.0 255.255.255.0"', "keepalive 10 60",
        `plugin /usr/lib/openvpn/openvpn-auth-ldap.so ${dir}/auth-ldap.conf`, "verify-client-cert none", "username-as-common-name",
        // The test's own: renegotiate every few seconds (default 3600), when the server asks the
        // plugin again: that is when an open tunnel of a disabled person ends.
        "disable-dco", `reneg-sec ${RENEG_SECONDS}`, `log ${dir}/server.log`, "verb 3", "",
      ].join("\n"),
    );
    start("ip", ["netns", "exec", NS.server, "openvpn", "--config", path.join(dir, "server.conf")]);
    const up = await waitForLog(path.join(dir, "server.log"), [/Initialization Sequence Completed/, /Exiting due to fatal error/], 10_000);
    if (!up || /fatal/.test(up.source)) throw new Error(`the OpenVPN server did not start:\n${await fs.readFile(path.join(dir, "server.log"), "utf8").catch(() => "")}`);

    profile = renderOpenVpnProfile({ remote: `${SERVER.underlay} 1194 udp`, ca: await fs.readFile(path.join(dir, "ca.crt"), "utf8"), username: UID });
  }, 60_000);

  afterAll(async () => {
    for (const child of children.reverse()) await stop(child);
    for (const ns of createdNs) {
      try {
        execFileSync("ip", ["netns", "del", ns]);
      } catch (e) {
        console.warn(`could not delete netns ${ns}: ${String(e)}`);
      }
    }
    await ldap?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it("signs in with the directory password Kiln wrote and reaches the lab; once locked, a new sign-in is refused and the open tunnel ends at the next renegotiation", async () => {
    const first = await connect("first");
    expect(first.outcome, first.log.slice(-3000)).toBe("connected");
    // Through the tunnel, by the route the server pushed.
    expect(inNs(NS.client, "ping", "-n", "-q", "-c", "2", "-i", "0.3", "-W", "1", SERVER.lab)).toMatch(/2 received/);

    // Disabled in Kiln: the entry's password is locked. slapd itself refuses it from now on.
    await setPassword(lockDirectoryPassword(hashDirectoryPassword(PASSWORD, "crypt-sha512")));
    expect(await canBindAs(ldap!.url, userDn, PASSWORD)).toBe(false);

    // A new sign-in is turned away, and by the plugin asking slapd (not by anything left over).
    const locked = await connect("locked");
    const serverLog = async () => (await fs.readFile(path.join(dir, "server.log"), "utf8")).slice(-6000);
    expect(locked.outcome, `${locked.log.slice(-1500)}\nSERVER:\n${await serverLog()}`).toBe("refused");

    // The tunnel opened before the lock is not cut by it: the server asks the plugin again only at
    // its next renegotiation (reneg-sec) — then the client is told AUTH_FAILED and ends.
    const ended = await waitForLog(path.join(dir, "first.log"), [/AUTH_FAILED/], (RENEG_SECONDS + 10) * 1000);
    expect(ended, `${(await fs.readFile(path.join(dir, "first.log"), "utf8")).slice(-1500)}\nSERVER:\n${await serverLog()}`).not.toBeNull();
    // On the server, that session's refusal came in a renegotiation (a soft reset), not a new sign-in.
    const log = await fs.readFile(path.join(dir, "server.log"), "utf8");
    const peer = /vpnuser\/([\d.]+:\d+) SENT CONTROL \[vpnuser\]: 'PUSH_REPLY/.exec(log)?.[1];
    expect(peer, log.slice(-6000)).toBeTruthy();
    const refusal = log.indexOf(`vpnuser/${peer} TLS Auth Error: Auth Username/Password verification failed`);
    expect(refusal, log.slice(-6000)).toBeGreaterThan(-1);
    expect(log.lastIndexOf(`vpnuser/${peer} TLS: soft reset`, refusal), log.slice(-6000)).toBeGreaterThan(-1);
    // And the new sign-in was turned down by the plugin too (its own peer, not the open session).
    expect((await refusedPeers()).filter((p) => p !== peer).length, log.slice(-6000)).toBeGreaterThan(0);
    await stop(first.child);
    await stop(locked.child);
  }, 60_000);
});
