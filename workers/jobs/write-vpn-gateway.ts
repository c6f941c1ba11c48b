import { getEnv } from "@/lib/env";
import { defineJob } from "@/lib/jobs/definition";
import { getLogger } from "@/lib/log";
import { syncGatewayDir } from "@/lib/vpn/gateway";
import { WRITE_VPN_GATEWAY_JOB } from "@/lib/vpn/jobs";

export const name = WRITE_VPN_GATEWAY_JOB.name;
export const schema = WRITE_VPN_GATEWAY_JOB.schema;

export const writeVpnGatewayJob = defineJob({
  ...WRITE_VPN_GATEWAY_JOB,
  handler: async (db) => {
    const result = await syncGatewayDir(db);
    if (result?.written.length) getLogger("vpn").info({ written: result.written, dir: getEnv().KILN_VPN_GATEWAY_DIR }, "gateway files written");
    return result;
  },
});
