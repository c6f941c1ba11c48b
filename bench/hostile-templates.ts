// `npm run bench:hostile`: do machines' boots wait on people's templates? (issue 12). A real
// Kiln (npm start's launcher, production build, embedded PostgreSQL) with N hosts is driven by
// Debian's `wrk` on /boot/chain.ipxe and /boot/<random known MAC>, first quiet and then while a
// separate process keeps the template render pool busy with hostile previews (templates that
// spin to their limit). The baseline, in the same run and with the same wrk command, is nginx
// (one worker) serving the very bytes Kiln answered, as static files. Prints req/s, p50, p99
// per row, the ratios hostile/quiet and Kiln/nginx, the web process's RSS before and after, and
// what became of the previews. Not a test: numbers depend on the machine (see bench/README.md).
//
// Options: --hosts 1000 --duration 10 --threads 2 --connections 32 --previewers 2
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { getProcessEnv } from "@/lib/env";
import { findFreePort } from "@/lib/runtime/embedded-postgres";
import { benchWebPid, seedBenchHosts, startBenchKiln, waitForUrl } from "./kiln";

// The spinning cases of lib/boot/boot-render.int.test.ts's HOSTILE list: nested loops, a list
// doubled into a tree, big strings stripped and searched, sort/unique/JSON of a huge list,
// deep nesting. Each should end as a template error at the engine's limit.
const HOSTILE = [
  "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
  "{% set a = [1] %}{% for i in range(60) %}{% set a = [a, a] %}{% if loop.last %}{{ a }}{% endif %}{% endfor %}",
  "{% set s = ' ' * 300000 ~ 'x' %}{% for i in range(100000) %}{% set t = s.strip(' ') %}{% endfor %}",
  "{% set l = ['x' * 1000] * 100000 %}{{ l|sort|unique|tojson }}",
  "{% set s = 'x' * 1000000 %}{% for i in range(100000) %}{% if 'y' in s %}{% endif %}{% endfor %}",
  "{{ " + "(".repeat(5000) + "1" + ")".repeat(5000) + " }}",
];

// The previewer runs in its own Node process, so the load generator is never the Kiln process
// (nor this one, which only waits on wrk). `previewers` loops each POST one preview at a time
// until stdin closes, then finish what is in flight and print their tally as JSON.
const PREVIEWER = `
const { BASE, TOKEN, HOST_ID, SOURCES, LOOPS } = getProcessEnv();
const sources = JSON.parse(SOURCES);
const t = { sent: 0, completed: 0, templateErrors: 0, kinds: {}, busy: 0, rendered: 0, other: {}, ms: [] };
let stop = false;
process.stdin.on("end", () => (stop = true)).resume();
async function loop(n) {
  for (let i = n; !stop; i++) {
    const t0 = Date.now();
    t.sent++;
    try {
      const res = await fetch(BASE + "/api/v1/templates/preview", { method: "POST", headers: { authorization: "Bearer " + TOKEN, "content-type": "application/json" }, body: JSON.stringify({ hostId: HOST_ID, source: sources[i % sources.length] }) });
      const body = await res.json().catch(() => null);
      t.completed++;
      t.ms.push(Date.now() - t0);
      if (res.status === 200 && body && body.ok === false && body.error) {
        t.templateErrors++;
        t.kinds[body.error.kind] = (t.kinds[body.error.kind] ?? 0) + 1;
        if (/busy|too many templates/.test(body.error.message)) t.busy++;
      } else if (res.status === 200 && body && body.ok) t.rendered++;
      else t.other[res.status] = (t.other[res.status] ?? 0) + 1;
    } catch (e) {
      t.other[e.cause?.code ?? e.message] = (t.other[e.cause?.code ?? e.message] ?? 0) + 1;
    }
  }
}
Promise.all(Array.from({ length: Number(LOOPS) }, (_, n) => loop(n))).then(() => { process.stdout.write(JSON.stringify(t)); });
`;

type Tally = { sent: number; completed: number; templateErrors: number; kinds: Record<string, number>; busy: number; rendered: number; other: Record<string, number>; ms: number[] };
type WrkResult = { requests: number; seconds: number; rps: number; p50: number; p99: number; errors: number; non2xx: number };

function options() {
  const { values } = parseArgs({
    options: {
      hosts: { type: "string", default: "1000" },
      duration: { type: "string", default: "10" },
      threads: { type: "string", default: "2" },
      connections: { type: "string", default: "32" },
      previewers: { type: "string", default: "2" },
    },
  });
  return { hosts: Number(values.hosts), duration: Number(values.duration), threads: Number(values.threads), connections: Number(values.connections), previewers: Number(values.previewers) };
}

/** One wrk run; the Lua script's `done` prints the numbers as JSON on the last line. */
function wrk(url: string, script: string, seconds: number, threads: number, connections: number): WrkResult {
  const out = execFileSync("wrk", [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, "--timeout", "10s", "-s", script, url], { encoding: "utf8", maxBuffer: 1 << 20 });
  const line = out.trim().split("\n").findLast((l) => l.startsWith("{"));
  if (!line) throw new Error(`wrk printed no result:\n${out}`);
  const r = JSON.parse(line) as { requests: number; duration_us: number; p50_us: number; p99_us: number; errors: number; non2xx: number };
  const secs = r.duration_us / 1e6;
  return { requests: r.requests, seconds: secs, rps: r.requests / secs, p50: r.p50_us / 1000, p99: r.p99_us / 1000, errors: r.errors, non2xx: r.non2xx };
}

function rssMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}

async function main(): Promise<void> {
  const opt = options();
  for (const [bin, pkg] of [["/usr/sbin/nginx", "nginx-light"], ["/usr/bin/wrk", "wrk"]] as const) {
    if (!existsSync(bin)) {
      console.error(`${bin} is missing: apt-get install ${pkg} (bench/README.md).`);
      process.exit(1);
    }
  }
  console.log("starting Kiln (npm start's launcher, production build) with an empty data directory…");
  const k = await startBenchKiln("hostile");
  const children: ChildProcess[] = [];
  try {
    console.log(`registering ${opt.hosts} hosts…`);
    const { ids, macs } = await seedBenchHosts(k, opt.hosts, "hostile");
    const webPid = benchWebPid(k);

    // nginx serves the very bytes Kiln answers: chain.ipxe, and an idle host's /boot/<mac>.
    const chainBytes = await (await fetch(`${k.base}/boot/chain.ipxe`)).text();
    const macBytes = await (await fetch(`${k.base}/boot/${macs[0]!.replace(/:/g, "-")}`)).text();
    const www = path.join(k.tmp, "www");
    await fs.mkdir(www);
    await fs.writeFile(path.join(www, "chain.ipxe"), chainBytes);
    await fs.writeFile(path.join(www, "host.ipxe"), macBytes);
    const nginxPort = await findFreePort();
    const conf = path.join(k.tmp, "nginx.conf");
    await fs.writeFile(
      conf,
      `worker_processes 1;\nerror_log ${k.tmp}/nginx-error.log;\npid ${k.tmp}/nginx.pid;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  default_type text/plain;\n  client_body_temp_path ${k.tmp}/nginx-tmp;\n  server {\n    listen 127.0.0.1:${nginxPort};\n    root ${www};\n    location = /boot/chain.ipxe { try_files /chain.ipxe =404; }\n    location /boot/ { try_files /host.ipxe =404; }\n  }\n}\n`,
    );
    const nginx = spawn("/usr/sbin/nginx", ["-c", conf, "-g", "daemon off;"], { stdio: "inherit" });
    children.push(nginx);
    const nginxBase = `http://127.0.0.1:${nginxPort}`;
    await waitForUrl(`${nginxBase}/boot/chain.ipxe`, 10_000, nginx);

    // wrk scripts: the same for both servers. Each thread picks a random known MAC per request.
    const done = `done = function(summary, latency, requests)\n  local e = summary.errors\n  io.write(string.format('{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d,"non2xx":%d}\\n', summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))\nend\n`;
    const chainLua = path.join(k.tmp, "chain.lua");
    await fs.writeFile(chainLua, `wrk.path = "/boot/chain.ipxe"\n${done}`);
    const macLua = path.join(k.tmp, "mac.lua");
    await fs.writeFile(
      macLua,
      `local macs = {${macs.map((m) => `"${m.replace(/:/g, "-")}"`).join(",")}}\nlocal n = 0\nsetup = function(thread) n = n + 1; thread:set("seed", n) end\ninit = function(args) math.randomseed(os.time() * 1000 + seed) end\nrequest = function() return wrk.format("GET", "/boot/" .. macs[math.random(#macs)]) end\n${done}`,
    );
    const run = (base: string, lua: string, seconds = opt.duration) => wrk(`${base}/boot/chain.ipxe`, lua, seconds, opt.threads, opt.connections);

    console.log("warming up (3 s per route and server)…");
    for (const base of [k.base, nginxBase]) for (const lua of [chainLua, macLua]) run(base, lua, 3);

    const wrkCmd = `wrk -t${opt.threads} -c${opt.connections} -d${opt.duration}s`;
    console.log(`rows: ${wrkCmd}, ${opt.hosts} known MACs…`);
    const nginxChain = run(nginxBase, chainLua);
    const nginxMac = run(nginxBase, macLua);
    const rssBefore = rssMb(webPid);
    const quietChain = run(k.base, chainLua);
    const quietMac = run(k.base, macLua);

    // The hostile previewer: its own process, `previewers` loops against one host.
    const previewer = spawn(process.execPath, ["--input-type=module", "-e", PREVIEWER], {
      env: { ...getProcessEnv(), BASE: k.base, TOKEN: k.token, HOST_ID: ids[0]!, SOURCES: JSON.stringify(HOSTILE), LOOPS: String(opt.previewers) },
      stdio: ["pipe", "pipe", "inherit"],
    });
    children.push(previewer);
    let tallyText = "";
    previewer.stdout!.on("data", (b: Buffer) => (tallyText += b));
    const previewerDone = new Promise<void>((r) => previewer.once("exit", () => r()));
    // Let the pool fill before measuring: the first previews are in a worker by now.
    await new Promise((r) => setTimeout(r, 2000));
    const hostileChain = run(k.base, chainLua);
    const hostileMac = run(k.base, macLua);
    previewer.stdin!.end();
    await previewerDone;
    const rssAfter = rssMb(webPid);
    const tally = JSON.parse(tallyText) as Tally;
    const alive = await fetch(`${k.base}/api/health`).then((r) => r.ok, () => false);
    // Stopped render workers' memory is given back lazily: read RSS again once things are idle.
    await new Promise((r) => setTimeout(r, 10_000));
    const rssSettled = rssMb(webPid);

    const rows: [string, WrkResult][] = [
      ["nginx /boot/chain.ipxe (static)", nginxChain],
      ["nginx /boot/<mac> (static)", nginxMac],
      ["Kiln /boot/chain.ipxe, quiet", quietChain],
      ["Kiln /boot/<mac>, quiet", quietMac],
      ["Kiln /boot/chain.ipxe, hostile", hostileChain],
      ["Kiln /boot/<mac>, hostile", hostileMac],
    ];
    const f = (x: number, d = 1) => x.toFixed(d);
    console.log("");
    console.log(`| row | req/s | p50 ms | p99 ms | errors / non-2xx | req/s vs nginx | req/s hostile / quiet | p99 hostile / quiet |`);
    console.log(`|---|---:|---:|---:|---:|---:|---:|---:|`);
    for (const [name, r] of rows) {
      const isChain = name.includes("chain");
      const nginxRow = isChain ? nginxChain : nginxMac;
      const quietRow = isChain ? quietChain : quietMac;
      const vsNginx = name.startsWith("Kiln") ? f(r.rps / nginxRow.rps, 3) : "—";
      const hq = name.endsWith("hostile") ? [f(r.rps / quietRow.rps, 2), `${f(r.p99 / quietRow.p99, 2)}×`] : ["—", "—"];
      console.log(`| ${name} | ${f(r.rps, 0)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${r.errors} / ${r.non2xx} | ${vsNginx} | ${hq[0]} | ${hq[1]} |`);
    }
    console.log("");
    const ms = [...tally.ms].sort((a, b) => a - b);
    console.log(
      `hostile previews: ${tally.completed} completed of ${tally.sent} sent by ${opt.previewers} loops over ${HOSTILE.length} templates; ` +
        `${tally.templateErrors} ended as template errors (${Object.entries(tally.kinds).map(([kind, n]) => `${kind} ${n}`).join(", ") || "none"}; ${tally.busy} of them "busy" refusals), ` +
        `${tally.rendered} rendered, other answers ${JSON.stringify(tally.other)}; each took p50 ${ms[Math.floor(ms.length / 2)] ?? "—"} ms, max ${ms.at(-1) ?? "—"} ms`,
    );
    console.log(`web process (pid ${webPid}) RSS: ${f(rssBefore.rss)} MB before the Kiln rows, ${f(rssAfter.rss)} MB after the hostile rows, ${f(rssSettled.rss)} MB 10 s later (peak ${f(rssSettled.hwm)} MB); still answering /api/health: ${alive}`);
    console.log(`machine: ${execFileSync("nproc", { encoding: "utf8" }).trim()} cores (wrk, Kiln, its worker, PostgreSQL, nginx and the previewer share them), ${os.release()}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
  } finally {
    for (const c of children) {
      if (c.exitCode === null) c.kill("SIGTERM");
    }
    await k.stop();
  }
}

main().catch((e) => {
  console.error(`hostile-templates failed: ${(e as Error).message}`);
  process.exit(1);
});
