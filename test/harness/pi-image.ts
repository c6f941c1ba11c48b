// A Raspberry-Pi-shaped disk image for tests: an MBR with a FAT32 (LBA, type 0x0c) boot
// partition at 1 MiB holding the given files, and a Linux partition after it — built with
// sfdisk and mtools (no mount, no root needed).
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { getProcessEnv } from "@/lib/env";

const run = promisify(execFile);

export async function buildPiImage(files: Record<string, Buffer>, sizeMb = 48): Promise<Buffer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-pi-image-"));
  try {
    const img = path.join(dir, "pi.img");
    await fs.writeFile(img, "");
    await fs.truncate(img, sizeMb * 1024 * 1024);
    const bootSectors = (sizeMb - 8) * 2048;
    await new Promise<void>((resolve, reject) => {
      const p = execFile("sfdisk", ["-q", img], (e) => (e ? reject(e) : resolve()));
      p.stdin!.end(`label: dos\nstart=2048, size=${bootSectors}, type=c\nstart=${2048 + bootSectors}, type=83\n`);
    });
    const env = { ...getProcessEnv(), MTOOLS_SKIP_CHECK: "1" };
    const target = `${img}@@1M`;
    await run("mformat", ["-i", target, "-F", "-v", "BOOT", "::"], { env });
    const dirs = new Set<string>();
    for (const [name, bytes] of Object.entries(files)) {
      const parts = name.split("/");
      for (let i = 1; i < parts.length; i++) {
        const d = parts.slice(0, i).join("/");
        if (!dirs.has(d)) {
          dirs.add(d);
          await run("mmd", ["-i", target, `::/${d}`], { env });
        }
      }
      const local = path.join(dir, "f");
      await fs.writeFile(local, bytes);
      await run("mcopy", ["-i", target, local, `::/${name}`], { env });
    }
    return await fs.readFile(img);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
