// The VPN gateway's job contract (lib/jobs/definition.ts says why contracts live in lib/).
import { getEnv } from "../env";
import { defineJobContract, emptyJobSchema } from "../jobs/definition";

const GATEWAY_WRITE_SECONDS = 30;

/**
 * Every 30 s (and at start) when KILN_VPN_GATEWAY_DIR is set: write the lab gateway's WireGuard
 * peers and nftables rules there, each only when it changed (./gateway.ts). For gateways that
 * read a shared directory instead of pulling over HTTP. Not retried: the next run, 30 s later,
 * is the retry; the files are rendered from the database each time, never patched.
 */
export const WRITE_VPN_GATEWAY_JOB = defineJobContract({
  name: "write-vpn-gateway",
  schema: emptyJobSchema,
  retryable: false,
  runAtStart: true,
  everySeconds: () => (getEnv().KILN_VPN_GATEWAY_DIR && getEnv().isVpnEnabled ? GATEWAY_WRITE_SECONDS : 0),
});
