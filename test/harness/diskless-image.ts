// A disk image whose root file system a diskless machine runs (docs/diskless.md): an MBR with one
// ext4 partition from 1 MiB holding busybox and an /sbin/init that counts its boots in /var, prints
// a line a test reads, keeps a file written at the first boot, syncs and powers off.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { findBusybox } from "./qemu";

const run = promisify(execFile);
const MiB = 1024 * 1024;

export const DISKLESS_INIT = `#!/bin/sh
mount -t proc proc /proc
n=$(cat /var/kiln-boots 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >/var/kiln-boots
echo "KILN-DISKLESS-UP boots=$n root=$(awk '$2 == "/" { print $1 }' /proc/mounts | tail -n 1)"
if [ -f /root/hello ]; then echo "KILN-DISKLESS-FILE $(cat /root/hello)"; else echo "written at boot $n" >/root/hello; fi
sync
mount -o remount,ro / 2>/dev/null
echo "KILN-DISKLESS-SYNCED"
poweroff -f
`;

/** Builds the image at `outPath` (sizeMb in total; the partition fills it from 1 MiB). */
export async function buildDisklessRootImage(outPath: string, sizeMb = 48): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-diskless-root-"));
  try {
    const root = path.join(work, "root");
    for (const d of ["bin", "sbin", "proc", "sys", "dev", "var", "root", "tmp", "etc"]) await fs.mkdir(path.join(root, d), { recursive: true });
    await fs.copyFile(findBusybox(), path.join(root, "bin/busybox"));
    await fs.chmod(path.join(root, "bin/busybox"), 0o755);
    for (const a of ["sh", "mount", "cat", "echo", "awk", "tail", "sync", "poweroff", "ls"]) await fs.symlink("busybox", path.join(root, "bin", a));
    await fs.writeFile(path.join(root, "sbin/init"), DISKLESS_INIT, { mode: 0o755 });
    const part = path.join(work, "part.ext4");
    const partBytes = (sizeMb - 1) * MiB;
    await run("mkfs.ext4", ["-q", "-F", "-L", "kilnroot", "-E", "root_owner=0:0", "-d", root, part, `${partBytes / 1024}k`]);
    const fd = await fs.open(outPath, "w");
    await fd.truncate(sizeMb * MiB);
    await fd.close();
    await run("sh", ["-c", `printf 'label: dos\\nstart=2048, type=83\\n' | sfdisk -q "$1"`, "sh", outPath]);
    await run("dd", [`if=${part}`, `of=${outPath}`, "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"]);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
