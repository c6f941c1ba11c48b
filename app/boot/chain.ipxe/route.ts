// GET /boot/chain.ipxe — the script to embed in iPXE or hand out by DHCP: tries each NIC, chains to /boot/<mac>
import { chainScript } from "@/boot/scripts";
import { getEnv } from "@/lib/env";

export const dynamic = "force-dynamic";

export function GET() {
  return new Response(chainScript(getEnv().bootUrl), { headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
}
