// Every 30 s (and at start) when KILN_VPN_GATEWAY_DIR is set: write the lab gateway's WireGuard
// peers and nftables rules there, each only when it changed (lib/vpn/gateway.ts). For gateways
// that read a shared directory instead of pulling over HTTP. A missed run is mended by the
// next one: the files are rendered from the database each time, never patched.
import { z } from "zod";
import { getEnv } from "@/lib/env";
import { defineJob } from "@/lib/jobs/definition";
import { getLogger } from "@/lib/log";
import { syncGatewayDir } from "@/lib/vpn/gateway";

export const name = "write-vpn-gateway";
export const schema = z.object({}).strict();

export const GATEWAY_WRITE_SECONDS = 30;

export const writeVpnGatewayJob = defineJob({
  name,
  schema,
  // The next run, 30 s later, is the retry.
  retryable: false,
  runAtStart: true,
  everySeconds: () => (getEnv().KILN_VPN_GATEWAY_DIR && getEnv().isVpnEnabled ? GATEWAY_WRITE_SECONDS : 0),
  handler: async (db) => {
    const result = await syncGatewayDir(db);
    if (result?.written.length) getLogger("vpn").info({ written: result.written, dir: getEnv().KILN_VPN_GATEWAY_DIR }, "gateway files written");
    return result;
  },
});
