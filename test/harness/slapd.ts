// A private OpenLDAP server for tests: its own config and database in a temp directory,
// listening on a free 127.0.0.1 port, seeded with people and an admin group. No vitest
// imports, so the Playwright e2e can start one too:
//   const ldap = await startSlapd(); …LDAP_URL = ldap.url… ; await stopSlapd(ldap);
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Client, InvalidCredentialsError } from "ldapts";
import { getProcessEnv } from "../../lib/env";

const run = promisify(execFile);

export const LDAP_BASE_DN = "dc=kiln,dc=test";

export type SlapdUser = {
  uid: string;
  /** Full name (cn). */
  name: string;
  /** null: the entry has no mail attribute. */
  mail: string | null;
  password: string;
  isAdmin: boolean;
  dn: string;
};

export type SlapdHandle = {
  /** ldap://127.0.0.1:PORT */
  url: string;
  port: number;
  baseDn: string;
  /** The service account Kiln binds as to search (the rootdn here). */
  bindDn: string;
  bindPassword: string;
  /** groupOfNames whose members get Kiln's admin role. */
  adminGroupDn: string;
  users: { alice: SlapdUser; bob: SlapdUser; carol: SlapdUser; dave: SlapdUser };
  /** The LDAP_* settings that point Kiln at this server. */
  kilnEnv: () => Record<"LDAP_URL" | "LDAP_BIND_DN" | "LDAP_BIND_PASSWORD" | "LDAP_BASE_DN" | "LDAP_ADMIN_GROUP_DN", string>;
  stop: () => Promise<void>;
};

function seedUsers(): SlapdHandle["users"] {
  const user = (uid: string, name: string, mail: string | null, isAdmin: boolean): SlapdUser => ({
    uid,
    name,
    mail,
    password: `${uid}-directory-pass-1`,
    isAdmin,
    dn: `uid=${uid},ou=people,${LDAP_BASE_DN}`,
  });
  return {
    alice: user("alice", "Alice Admin", "alice@kiln.test", true),
    bob: user("bob", "Bob Builder", "bob@kiln.test", false),
    carol: user("carol", "Carol Nomail", null, false),
    dave: user("dave", "Dave Duplicate", "dave@kiln.test", false),
  };
}

/** Finds a tool in PATH or the sbin directories (root's PATH is not always everyone's). */
function findTool(name: string): string {
  const dirs = [...(getProcessEnv().PATH ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
  for (const d of dirs) {
    const p = path.join(d, name);
    if (d && existsSync(p)) return p;
  }
  throw new Error(`${name} is not installed. Run \`bash scripts/ensure-deps.sh\` (it installs slapd and ldap-utils).`);
}

/** {SSHA} as slappasswd writes it: base64(sha1(password + salt) + salt). */
function sshaHash(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash("sha1").update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString("base64")}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

function slapdConf(dir: string, rootPwHash: string): string {
  const schema = "/etc/ldap/schema";
  return `include ${schema}/core.schema
include ${schema}/cosine.schema
include ${schema}/inetorgperson.schema
include ${schema}/nis.schema
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb

database mdb
maxsize 16777216
suffix "${LDAP_BASE_DN}"
rootdn "cn=admin,${LDAP_BASE_DN}"
rootpw ${rootPwHash}
directory ${dir}/data

access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by * read
`;
}

function seedLdif(users: SlapdHandle["users"], adminGroupDn: string): string {
  const entries = [
    `dn: ${LDAP_BASE_DN}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\no: Kiln test lab\ndc: kiln`,
    `dn: ou=people,${LDAP_BASE_DN}\nobjectClass: organizationalUnit\nou: people`,
    `dn: ou=groups,${LDAP_BASE_DN}\nobjectClass: organizationalUnit\nou: groups`,
    ...Object.values(users).map((u) =>
      [
        `dn: ${u.dn}`,
        "objectClass: inetOrgPerson",
        `uid: ${u.uid}`,
        `cn: ${u.name}`,
        `sn: ${u.name.split(" ").at(-1)}`,
        ...(u.mail ? [`mail: ${u.mail}`] : []),
        `userPassword: ${sshaHash(u.password)}`,
      ].join("\n"),
    ),
    [
      `dn: ${adminGroupDn}`,
      "objectClass: groupOfNames",
      "cn: kiln-admins",
      ...Object.values(users)
        .filter((u) => u.isAdmin)
        .map((u) => `member: ${u.dn}`),
    ].join("\n"),
  ];
  return entries.join("\n\n") + "\n";
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Last resort: SIGKILL slapd (by its pid file) and the watchdog. */
async function killHard(dir: string, watchdog: ChildProcess): Promise<void> {
  const pid = Number((await fs.readFile(path.join(dir, "slapd.pid"), "utf8").catch(() => "")).trim());
  if (pid) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  watchdog.kill("SIGKILL");
  await waitForExit(watchdog, 2_000);
}

/**
 * Runs slapd (the arguments after the directory) under a watchdog shell. The watchdog's stdin is a
 * pipe from this process: when it closes — stop(), or this process dying, even by SIGKILL — slapd
 * gets SIGTERM, and once it has exited its directory is removed. So a killed test run leaves no
 * slapd behind. The shell exits when slapd does, which is how an early failure is seen.
 */
const WATCHDOG = `dir=$1; shift
exec 3<&0
"$@" 3<&- </dev/null &
pid=$!
{ cat <&3 >/dev/null; kill -TERM "$pid" 2>/dev/null; } &
wait "$pid"
status=$?
rm -rf "$dir"
exit "$status"`;

export async function startSlapd(): Promise<SlapdHandle> {
  const slapd = findTool("slapd");
  const slaptest = findTool("slaptest");
  const slappasswd = findTool("slappasswd");
  const ldapadd = findTool("ldapadd");

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-slapd-"));
  let child: ChildProcess | undefined;
  try {
    await fs.mkdir(path.join(dir, "data"));
    const bindDn = `cn=admin,${LDAP_BASE_DN}`;
    const bindPassword = randomBytes(12).toString("hex");
    const { stdout: rootPwHash } = await run(slappasswd, ["-s", bindPassword]);
    const conf = path.join(dir, "slapd.conf");
    await fs.writeFile(conf, slapdConf(dir, rootPwHash.trim()));
    await run(slaptest, ["-Q", "-u", "-f", conf]).catch((e: { stderr?: string }) => {
      throw new Error(`slaptest rejected the generated slapd.conf: ${e.stderr ?? e}`);
    });

    // The port is found free, then slapd binds it: retry if another process took it in between.
    let port = 0;
    let stderr = "";
    for (let attempt = 0; attempt < 3 && !child; attempt++) {
      port = await freePort();
      stderr = "";
      // -d 0: stay in the foreground without debug output, so the process is ours to stop.
      const args = [slapd, "-f", conf, "-h", `ldap://127.0.0.1:${port}/`, "-d", "0"];
      const c = spawn("/bin/sh", ["-c", WATCHDOG, "kiln-slapd", dir, ...args], { stdio: ["pipe", "ignore", "pipe"] });
      c.stderr!.on("data", (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        if (c.exitCode !== null || c.signalCode !== null) break;
        if (await canConnect(port)) {
          child = c;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      if (!child) {
        c.stdin!.end();
        await waitForExit(c, 5_000);
      }
    }
    if (!child) throw new Error(`slapd did not start on 127.0.0.1:${port}:\n${stderr.trim()}`);

    const url = `ldap://127.0.0.1:${port}`;
    const users = seedUsers();
    const adminGroupDn = `cn=kiln-admins,ou=groups,${LDAP_BASE_DN}`;
    const ldif = path.join(dir, "seed.ldif");
    await fs.writeFile(ldif, seedLdif(users, adminGroupDn));
    const slapdProcess = child;
    let stopped: Promise<void> | undefined;
    const stop = () =>
      (stopped ??= (async () => {
        // slapd takes a second or two to exit after SIGTERM; the watchdog removes its files only then.
        slapdProcess.stdin!.end();
        if (!(await waitForExit(slapdProcess, 10_000))) await killHard(dir, slapdProcess);
        await fs.rm(dir, { recursive: true, force: true });
      })());

    await run(ldapadd, ["-x", "-H", url, "-D", bindDn, "-w", bindPassword, "-f", ldif]).catch((e: { stderr?: string }) => {
      throw new Error(`Seeding the test directory failed: ${e.stderr ?? e}`);
    });

    return {
      url,
      port,
      baseDn: LDAP_BASE_DN,
      bindDn,
      bindPassword,
      adminGroupDn,
      users,
      kilnEnv: () => ({
        LDAP_URL: url,
        LDAP_BIND_DN: bindDn,
        LDAP_BIND_PASSWORD: bindPassword,
        LDAP_BASE_DN: LDAP_BASE_DN,
        LDAP_ADMIN_GROUP_DN: adminGroupDn,
      }),
      stop,
    };
  } catch (e) {
    if (child) await killHard(dir, child);
    await fs.rm(dir, { recursive: true, force: true }).catch(() => {});
    throw e;
  }
}

export function stopSlapd(handle: SlapdHandle): Promise<void> {
  return handle.stop();
}

/** Whether `dn` binds with `password` at `url` (false for invalid credentials; other failures throw). */
export async function canBindAs(url: string, dn: string, password: string): Promise<boolean> {
  const client = new Client({ url, timeout: 5000, connectTimeout: 5000 });
  try {
    await client.bind(dn, password);
    return true;
  } catch (e) {
    if (e instanceof InvalidCredentialsError) return false;
    throw e;
  } finally {
    await client.unbind().catch(() => {});
  }
}
