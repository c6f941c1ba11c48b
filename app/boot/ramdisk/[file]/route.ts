// GET|HEAD /boot/ramdisk/(vmlinuz|initrd.img) — the deploy ramdisk that deploy, capture and wipe runs boot (docs/ramdisk.md).
// No authentication: machines fetch it from iPXE before they can hold any credential, and it holds
// no secret (Debian's kernel, busybox and public tools; each run's token is on the kernel command line).
import { getEnv } from "@/lib/env";
import { serveRamdiskFile } from "@/lib/boot/ramdisk";
import { withErrors } from "@/lib/http/handler";

export const dynamic = "force-dynamic";

async function handle(req: Request, ctx: { params: Promise<{ file: string }> }): Promise<Response> {
  const { file } = await ctx.params;
  return serveRamdiskFile({ dir: getEnv().ramdiskDir, file: decodeURIComponent(file), method: req.method, headers: req.headers });
}

export const GET = withErrors(handle);
export const HEAD = withErrors(handle);
