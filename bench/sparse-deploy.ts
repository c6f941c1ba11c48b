// `npm run bench:sparse-deploy`: the deploy agent's write phase in QEMU against the best the
// same VM does with the same blob, and a mostly-empty image written through its block map
// against writing every byte. Not a test: numbers depend on the machine (bench/README.md).
//
// The machine side runs for real — Kiln's deploy ramdisk (scripts/build-ramdisk.sh) booted by
// QEMU (TCG, 1 vCPU, 512 MB, virtio disk, user-mode network restricted to one address) and the
// agent (boot/agent/*.sh, joined as served) — against nginx, which serves the blob (with Range), the
// agent and its instructions, and answers the agent's reports with 200. The instructions are
// what Kiln's agent.env would say for the version (lib/deployments/agent-instructions.ts), the block map the
// one verification records (lib/images/block-map.ts). Kiln's web process is left out on
// purpose: it only authorizes the blob, and nginx is the baseline's server too.
//
// Rows, each in its own fresh VM, one after the other:
//   link:   a dense raw image (random bytes): agent write phase vs `curl … | dd` of the same blob
//           from the same nginx into the same disk, in the same VM right after the agent;
//   sparse: a zstd image whose logical bytes are 10 % data: the whole deploy (VM start → the
//           agent's done report) writing every byte vs through its block map.
// The write phase is the time from the blob's request to the agent's done report (nginx's
// $msec and $request_time), which includes the hash checks and the first MiB written last.
//
// Options: --link-mib 256 (dense raw image) --sparse-mib 1024 (logical size, 10 % data)
//          --smp 1 (vCPUs: with 2, MTTCG runs the pipeline's stages on two host threads)
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fsp from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { zstdCompressSync } from "node:zlib";
import { readAgentScript } from "@/boot/agent/agent-script";
import type { ImageBlockMap } from "@/db/schema";
import { ensureRamdisk } from "@/lib/boot/ramdisk";
import { computeBlockMap, isBlockMapWorthIt } from "@/lib/images/block-map";
import { GUEST_KILN_URL, startVm } from "@/test/harness/qemu";

const MiB = 1024 * 1024;
const MAC = "52:54:00:b5:00:01";
const TOKEN = "benchbenchbenchbenchbench";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** nginx on 127.0.0.1:port serving `www`, every POST answered 200, an access log with times. */
async function startNginx(dir: string, www: string): Promise<{ port: number; log: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const log = path.join(dir, "access.log");
  const conf = path.join(dir, "nginx.conf");
  await fsp.writeFile(
    conf,
    `user root; worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 64; }
http {
  log_format t '$msec $request_time $status $body_bytes_sent "$request"';
  access_log ${log} t;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  sendfile on;
  server {
    listen 127.0.0.1:${port};
    root ${www};
    location ~ /(inventory|progress|log|done|failed)$ { client_max_body_size 10m; return 200 "ok\\n"; }
    location / { }
  }
}
`,
  );
  const child: ChildProcess = spawn("nginx", ["-c", conf, "-p", dir], { stdio: "ignore" });
  for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 50));
  return {
    port,
    log,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 300));
    },
  };
}

function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'"'"'`)}'`;
}

/** What Kiln's agent.env says for a deploy of this blob (lib/deployments/agent-instructions.ts serveAgentEnv). */
function agentEnv(p: { blobUrl: string; sha256: string; size: number; format: string; map: ImageBlockMap | null }): string {
  const base = `${GUEST_KILN_URL}/boot/${MAC.replace(/:/g, "-")}/${TOKEN}`;
  const vars: Record<string, string | number | undefined> = {
    KILN_ACTION: "deploy_image",
    KILN_DISK: "vda",
    KILN_IMAGE_URL: p.blobUrl,
    KILN_IMAGE_SHA256: p.sha256,
    KILN_IMAGE_SIZE: p.size,
    KILN_IMAGE_FORMAT: p.format,
    KILN_IMAGE_MAP: p.map?.ranges.map((r) => `${r.start} ${r.length} ${r.sha256}`).join("\n"),
    KILN_IMAGE_LOGICAL_SIZE: p.map?.imageSizeBytes,
    KILN_IMAGE_MAPPED_BYTES: p.map?.mappedBytes,
    KILN_IMAGE_MAPPED_SHA256: p.map?.mappedSha256,
    KILN_REPORT_PROGRESS: `${base}/progress`,
    KILN_PROGRESS_INTERVAL: 5,
    KILN_THEN: "reboot",
  };
  return `${Object.entries(vars).map(([k, v]) => `${k}=${shellQuote(v === undefined ? "" : String(v))}`).join("\n")}\n`;
}

// Served as the agent: runs the real one, then (if asked) the baseline in the same VM.
const WRAPPER = `#!/bin/sh
up() { cut -d' ' -f1 /proc/uptime; }
curl -fsS -o /tmp/kiln-agent.sh "$KILN_URL/kiln-agent.sh" || exit 1
sh /tmp/kiln-agent.sh
rc=$?
echo "KILN-BENCH agent rc=$rc"
[ "$rc" = 0 ] || exit "$rc"
if [ -n "$(curl -fsS "$KILN_URL/baseline.txt" 2>/dev/null)" ]; then
  url=$(curl -fsS "$KILN_URL/baseline.txt")
  t0=$(up)
  curl -fsS "$url" | /usr/bin/dd of=/dev/vda bs=1M iflag=fullblock conv=fsync status=none
  t1=$(up)
  echo "KILN-BENCH curl-dd seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
fi
exit 0
`;

type Run = { wholeSeconds: number; writeSeconds: number; baselineSeconds: number | null; diskSha: string };

async function deployOnce(p: { name: string; ramdisk: string; blob: string; format: string; map: ImageBlockMap | null; logicalSize: number; baseline: boolean; smp: number }): Promise<Run> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), `kiln-bench-sparse-${p.name}-`));
  try {
    const www = path.join(dir, "www");
    const bootDir = path.join(www, "boot", MAC.replace(/:/g, "-"), TOKEN);
    await fsp.mkdir(bootDir, { recursive: true });
    await fsp.link(p.blob, path.join(www, "blob")).catch(() => fsp.copyFile(p.blob, path.join(www, "blob")));
    const sha256 = createHash("sha256").update(await fsp.readFile(p.blob)).digest("hex");
    const size = (await fsp.stat(p.blob)).size;
    await fsp.writeFile(path.join(bootDir, "agent.env"), agentEnv({ blobUrl: `${GUEST_KILN_URL}/blob`, sha256, size, format: p.format, map: p.map }));
    await fsp.writeFile(path.join(bootDir, "agent"), WRAPPER);
    await fsp.writeFile(path.join(www, "kiln-agent.sh"), await readAgentScript());
    if (p.baseline) await fsp.writeFile(path.join(www, "baseline.txt"), `${GUEST_KILN_URL}/blob\n`);
    const nginx = await startNginx(dir, www);
    const disk = path.join(dir, "disk.raw");
    await fsp.writeFile(disk, "");
    await fsp.truncate(disk, p.logicalSize + 64 * MiB);
    const started = Date.now();
    const vm = await startVm({
      mac: MAC,
      kilnPort: nginx.port,
      diskPath: disk,
      memoryMb: 512,
      extraArgs: p.smp > 1 ? ["-smp", String(p.smp)] : [],
      direct: {
        kernel: path.join(p.ramdisk, "vmlinuz"),
        initrd: path.join(p.ramdisk, "initrd.img"),
        append: `initrd=initrd.img panic=-1 console=ttyS0,115200 kiln.url=${GUEST_KILN_URL} kiln.mac=${MAC} kiln.token=${TOKEN} kiln.action=deploy kiln.disk=vda`,
      },
    });
    try {
      const deadline = Date.now() + 30 * 60_000;
      while (vm.process.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
      const serial = vm.serial();
      if (!/KILN-BENCH agent rc=0/.test(serial)) throw new Error(`${p.name}: the agent failed:\n${serial.slice(-3000)}`);
      const log = (await fsp.readFile(nginx.log, "utf8")).trim().split("\n").map((l) => l.split(" "));
      const blob = log.find((l) => l[5] === "/blob" && l[2] !== "416")!;
      const done = log.find((l) => l[5]?.endsWith("/done"))!;
      const blobStart = Number(blob[0]) - Number(blob[1]);
      const writeSeconds = Number(done[0]) - blobStart;
      const wholeSeconds = Number(done[0]) - started / 1000;
      const m = /KILN-BENCH curl-dd seconds=([\d.]+)/.exec(serial);
      // The agent's disk, unless the baseline wrote the same blob over it afterwards.
      const bytes = await fsp.readFile(disk);
      const diskSha = createHash("sha256").update(bytes.subarray(0, p.logicalSize)).digest("hex");
      return { wholeSeconds, writeSeconds, baselineSeconds: m ? Number(m[1]) : null, diskSha };
    } finally {
      await vm.stop();
      await nginx.stop();
    }
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { "link-mib": { type: "string", default: "256" }, "sparse-mib": { type: "string", default: "1024" }, smp: { type: "string", default: "1" } } });
  const smp = Number(values.smp);
  const linkMib = Number(values["link-mib"]);
  const sparseMib = Number(values["sparse-mib"]);
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), "kiln-bench-sparse-"));
  try {
    const ramdisk = path.join(tmp, "ramdisk");
    console.log("building the deploy ramdisk (cached by its inputs)…");
    await ensureRamdisk({ dir: ramdisk, log: () => {} });
    const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

    // --- the link: a dense raw image ---
    const dense = path.join(tmp, "dense.raw");
    await fsp.writeFile(dense, randomBytes(linkMib * MiB));
    console.log(`link: ${linkMib} MiB of random bytes (raw), agent then curl | dd in the same VM…`);
    const link = await deployOnce({ name: "link", ramdisk, blob: dense, format: "raw", map: null, logicalSize: linkMib * MiB, baseline: true, smp });

    // --- sparse: 10 % data in 40 islands, zstd ---
    const logical = Buffer.alloc(sparseMib * MiB);
    const islands = 40;
    const island = Math.floor((logical.length / 10 / islands) / 4096) * 4096;
    for (let i = 0; i < islands; i++) randomBytes(island).copy(logical, Math.floor((i * logical.length) / islands));
    const logicalSha = sha(logical);
    const blob = path.join(tmp, "sparse.zst");
    await fsp.writeFile(blob, zstdCompressSync(logical));
    const blobSha = sha(await fsp.readFile(blob));
    const map = (await computeBlockMap(blob, "zstd", blobSha))!;
    if (!isBlockMapWorthIt(map, blobSha)) throw new Error("the sparse image's map would not be used");
    const blobSize = (await fsp.stat(blob)).size;
    console.log(`sparse: ${sparseMib} MiB logical, ${(map.mappedBytes / MiB).toFixed(1)} MiB mapped in ${map.ranges.length} ranges, ${(blobSize / MiB).toFixed(1)} MiB zstd; full write, then through the map…`);
    const full = await deployOnce({ name: "full", ramdisk, blob, format: "zstd", map: null, logicalSize: logical.length, baseline: false, smp });
    const sparse = await deployOnce({ name: "sparse", ramdisk, blob, format: "zstd", map, logicalSize: logical.length, baseline: false, smp });
    for (const [n, r] of [["full", full], ["sparse", sparse]] as const) if (r.diskSha !== logicalSha) throw new Error(`${n}: the disk's hash is not the image's`);

    const rate = (bytes: number, s: number) => `${(bytes / MiB / s).toFixed(1)} MiB/s`;
    console.log(`\n| row | seconds | rate | ratio |`);
    console.log(`|---|---:|---:|---:|`);
    console.log(`| link: \`curl\` from nginx \\| \`dd\`, same VM (${linkMib} MiB raw) | ${link.baselineSeconds!.toFixed(2)} | ${rate(linkMib * MiB, link.baselineSeconds!)} | — |`);
    console.log(`| link: agent write phase (download → sha256 → disk) | ${link.writeSeconds.toFixed(2)} | ${rate(linkMib * MiB, link.writeSeconds)} | **${(link.baselineSeconds! / link.writeSeconds).toFixed(2)}** of curl \\| dd |`);
    console.log(`| sparse ${sparseMib} MiB (10 % data), every byte: whole deploy | ${full.wholeSeconds.toFixed(2)} | — | — |`);
    console.log(`| sparse, every byte: write phase | ${full.writeSeconds.toFixed(2)} | ${rate(logical.length, full.writeSeconds)} logical | — |`);
    console.log(`| sparse, block map: whole deploy | ${sparse.wholeSeconds.toFixed(2)} | — | **${(full.wholeSeconds / sparse.wholeSeconds).toFixed(2)}×** faster |`);
    console.log(`| sparse, block map: write phase | ${sparse.writeSeconds.toFixed(2)} | ${rate(logical.length, sparse.writeSeconds)} logical | **${(full.writeSeconds / sparse.writeSeconds).toFixed(2)}×** faster |`);
    console.log(`\nboth sparse disks hash like the image (${logicalSha.slice(0, 16)}…)`);
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`bench:sparse-deploy failed: ${(e as Error).message}`);
  process.exit(1);
});
