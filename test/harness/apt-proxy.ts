// A caching apt proxy for tests that install Debian: Debian's apt-cacher-ng, run by the test
// itself in the foreground on a loopback port with its own configuration — the system service
// the package may have set up is not used. It fetches from the Debian archive this machine's
// apt uses, and keeps what it fetched under ${XDG_CACHE_HOME:-~/.cache}/kiln/apt-cacher-ng, so
// a second install downloads nothing. Guests reach it through a guestfwd (startVm's
// guestForwards), the way a lab's machines reach the proxy MAAS ships.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { getCacheDir } from "@/lib/env";

const execFileP = promisify(execFile);

export type AptProxy = {
  port: number;
  cacheDir: string;
  logDir: string;
  stop: () => Promise<void>;
  requests: () => Promise<string[]>;
  /** GET through the proxy: the status and body (curl -x, as the guest's apt and wget use it). */
  fetch: (url: string) => Promise<{ status: number; body: Buffer }>;
};

/**
 * Whether the archive behind the proxy serves the installer's own packages (.udeb): Debian's
 * netboot installer downloads most of itself (partman, base-installer, grub-installer…) as
 * udebs from the mirror. Some archive gateways serve .deb and .dsc files but answer 404 for
 * most .udeb files; the installer then stops at "Loading additional components". Answers one
 * udeb's URL, named by the archive's own installer index, and its status.
 */
export async function probeInstallerComponents(proxy: AptProxy, mirror = "http://deb.debian.org/debian", suite = "bookworm"): Promise<{ url: string; status: number }> {
  const index = await proxy.fetch(`${mirror}/dists/${suite}/main/debian-installer/binary-amd64/Packages.gz`);
  if (index.status !== 200) return { url: `${mirror}/dists/${suite}/main/debian-installer/binary-amd64/Packages.gz`, status: index.status };
  const filename = /^Package: apt-mirror-setup\n(?:.+\n)*?Filename: (\S+)$/m.exec(gunzipSync(index.body).toString("utf8"))?.[1];
  if (!filename) throw new Error("the archive's installer index names no apt-mirror-setup udeb");
  const url = `${mirror}/${filename}`;
  return { url, status: (await proxy.fetch(url)).status };
}

function cacheRoot(): string {
  return getCacheDir("apt-cacher-ng");
}

/** A free loopback port below 32768: apt-cacher-ng 3.7 formats its port as a signed 16-bit number, so 39142 becomes "-2639" and it binds nothing. */
async function freeLowPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error("no free loopback port below 32768 for apt-cacher-ng");
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

export async function startAptProxy(): Promise<AptProxy> {
  if (!existsSync("/usr/sbin/apt-cacher-ng")) throw new Error("apt-cacher-ng is missing: run `bash scripts/ensure-deps.sh --install`");
  const cacheDir = cacheRoot();
  await fs.mkdir(cacheDir, { recursive: true });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-acng-"));
  const logDir = path.join(dir, "log");
  await fs.mkdir(logDir);
  const port = await freeLowPort();
  // Its own socket and pid file: the package's defaults are under /run/apt-cacher-ng, which a
  // system service (or another test) may hold.
  await fs.writeFile(
    path.join(dir, "acng.conf"),
    [
      `CacheDir: ${cacheDir}`,
      `LogDir: ${logDir}`,
      "SupportDir: /usr/lib/apt-cacher-ng",
      `SocketPath: ${path.join(dir, "socket")}`,
      `PidFile: ${path.join(dir, "pid")}`,
      "BindAddress: 127.0.0.1",
      `Port: ${port}`,
      "ForeGround: 1",
      "ExThreshold: 4",
      // security.debian.org and deb.debian.org/debian-security are one archive: one cache.
      "Remap-secdeb: security.debian.org security.debian.org/debian-security deb.debian.org/debian-security /debian-security ; deb.debian.org/debian-security security.debian.org",
      "",
    ].join("\n"),
  );
  let fetches = 0;
  const child: ChildProcess = spawn("/usr/sbin/apt-cacher-ng", ["-c", dir], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-2000)));
  const deadline = Date.now() + 10_000;
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`apt-cacher-ng did not listen on 127.0.0.1:${port}: ${stderr.trim() || `exit ${child.exitCode}`}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    cacheDir,
    logDir,
    // Its transfer log: one line per request, "time|I or O|bytes|client|path".
    requests: async () => (await fs.readFile(path.join(logDir, "apt-cacher.log"), "utf8").catch(() => "")).split("\n").filter(Boolean),
    fetch: async (url) => {
      const out = path.join(dir, `fetched-${++fetches}`);
      const { stdout } = await execFileP("curl", ["-sS", "-o", out, "-w", "%{http_code}", "-x", `http://127.0.0.1:${port}`, "--max-time", "120", url]);
      const body = await fs.readFile(out).catch(() => Buffer.alloc(0));
      await fs.rm(out, { force: true });
      return { status: Number(stdout.trim()), body };
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
