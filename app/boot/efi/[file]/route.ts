// GET|HEAD /boot/efi/(local-boot.efi|grub.cfg) — the GRUB program UEFI local boot chains to start the disk's own loader, and its script for Secure Boot labs' TFTP root (docs/uefi.md).
// No authentication: machines fetch it from iPXE before they can hold any credential, and it holds no secret.
import { serveEfiFile } from "@/lib/boot/efi-local-boot";
import { withErrors } from "@/lib/http/handler";

export const dynamic = "force-dynamic";

async function handle(req: Request, ctx: { params: Promise<{ file: string }> }): Promise<Response> {
  const { file } = await ctx.params;
  // A malformed escape is just a name that is not served (404), not an error of ours.
  let name = file;
  try {
    name = decodeURIComponent(file);
  } catch {}
  return serveEfiFile({ file: name, method: req.method, headers: req.headers });
}

export const GET = withErrors(handle);
export const HEAD = withErrors(handle);
