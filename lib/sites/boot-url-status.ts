// The boot URL the default site's machines are told (its stored boot URL, else KILN_BOOT_URL),
// and the warning when they cannot reach it: for the admin banner and the network-boot page.
import type { DbOrTx } from "../db";
import { getEnv } from "../env";
import { bootUrlWarning } from "./boot-url-check";
import { DEFAULT_SITE_ID, siteBootUrlOf } from "./sites";

export type BootUrlStatus = { url: string; chainUrl: string; warning: ReturnType<typeof bootUrlWarning> };

export async function getBootUrlStatus(db: DbOrTx): Promise<BootUrlStatus> {
  const url = await siteBootUrlOf(db, { siteId: DEFAULT_SITE_ID });
  return { url, chainUrl: `${url}/boot/chain.ipxe`, warning: bootUrlWarning(url, getEnv().bootPort) };
}
