// A new machine's architecture as its iPXE says it: the chain script sends ${buildarch}, and an
// unknown MAC is recorded with it — through the boot server's batched writes and the uncached
// path alike. A word Kiln does not know leaves the default (x86_64); a known host keeps its own.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { chainScript } from "@/boot/scripts";
import { findHostByMac } from "@/db/queries/boot";
import { answerBootRequest } from "@/lib/boot/boot-service";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { stopRenderPool } from "@/lib/templates/render-pool";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv } from "@/test/harness/env";
import { BootAnswers } from "./answers";

const t = await useTestDb();
setTestEnv({ KILN_COMMISSION_ON_DISCOVERY: "false" });
const mac = () => `52:54:00:${[0, 0, 0].map(() => randomBytes(1).toString("hex")).join(":")}`;
let answers: BootAnswers | null = null;

afterAll(async () => {
  await answers?.stop();
  await stopRenderPool();
  await stopJobSender();
});

describe("architecture at discovery", () => {
  it("the chain script sends iPXE's ${buildarch}", () => {
    expect(chainScript("http://kiln.test:3001")).toContain("/boot/${net0/mac:hexhyp}?hostname=${hostname:uristring}&arch=${buildarch} ||");
  });

  it("a real iPXE (QEMU's NIC ROM under SeaBIOS) running the chain script sends its ${buildarch}: i386, recorded as x86_64", async () => {
    const asked: string[] = [];
    const server = http.createServer((req, res) => {
      asked.push(req.url ?? "");
      if (req.url === "/boot/chain.ipxe") return void res.writeHead(200, { "content-type": "text/plain" }).end(chainScript("http://10.0.2.100"));
      // Any answer ends it: a script that powers the machine off.
      res.writeHead(200, { "content-type": "text/plain" }).end("#!ipxe\npoweroff\n");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    const vm = spawn("qemu-system-x86_64", [
      "-accel", "tcg", "-m", "256", "-smp", "1", "-nodefaults", "-display", "none", "-serial", "none", "-monitor", "none", "-no-reboot",
      // Only Kiln's stand-in is reachable (LAB.md): restrict=on, and 10.0.2.100:80 forwarded to it.
      "-netdev", `user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:80-cmd:/bin/busybox nc 127.0.0.1 ${port},bootfile=http://10.0.2.100/boot/chain.ipxe`,
      "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:ab:cd:ef", "-boot", "order=n",
    ], { stdio: "ignore" });
    try {
      const end = Date.now() + 60_000;
      while (!asked.some((u) => u.startsWith("/boot/52-54-00-ab-cd-ef"))) {
        if (Date.now() > end || vm.exitCode !== null) throw new Error(`iPXE did not ask for its MAC; asked: ${asked.join(", ")}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      vm.kill("SIGKILL");
      server.close();
    }
    // The BIOS NIC ROM is a 32-bit iPXE build: i386, which is an x86-64 machine for Kiln.
    expect(asked.find((u) => u.startsWith("/boot/52-54-00-ab-cd-ef"))).toBe("/boot/52-54-00-ab-cd-ef?hostname=&arch=i386");
  }, 90_000);

  it("records a new MAC's arch from the boot server's request, and from the uncached path; an unknown word means x86_64", async () => {
    answers = new BootAnswers({ db: t.db, databaseUrl: t.url });
    await answers.start();
    const [arm, pc, odd, plain] = [mac(), mac(), mac(), mac()];
    await answers.answer({ mac: arm.replace(/:/g, "-"), hostnameHint: null, sourceIp: "10.0.0.9", arch: "arm64" });
    await answers.answer({ mac: odd, hostnameHint: null, sourceIp: "10.0.0.9", arch: "riscv64" });
    await answers.flush();
    expect((await findHostByMac(t.db, arm))?.host.arch).toBe("arm64");
    expect((await findHostByMac(t.db, odd))?.host.arch).toBe("x86_64");
    await answerBootRequest(t.db, { mac: pc, sourceIp: "10.0.0.9", arch: "i386" });
    await answerBootRequest(t.db, { mac: plain, sourceIp: "10.0.0.9" });
    expect((await findHostByMac(t.db, pc))?.host.arch).toBe("x86_64");
    expect((await findHostByMac(t.db, plain))?.host.arch).toBe("x86_64");
    // Known already: what it says later does not change it (an admin's choice stands).
    await answerBootRequest(t.db, { mac: pc, sourceIp: "10.0.0.9", arch: "arm64" });
    expect((await findHostByMac(t.db, pc))?.host.arch).toBe("x86_64");
  });
});
