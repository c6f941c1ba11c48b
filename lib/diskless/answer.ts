// The diskless part of a boot answer (lib/boot/boot-service.ts): kept apart from ./diskless.ts so
// the boot path imports no run-creation code.
import type { DisklessRootRow } from "@/db/schema";
import { getEnv } from "../env";

/** Where the machine's nbd-client dials: `host:port/export` (the export name is the secret). Null while the export has no port yet. */
export function disklessNbdAddress(root: DisklessRootRow): string | null {
  if (!root.port) return null;
  return `${getEnv().nbdAddress}:${root.port}/${root.exportName}`;
}

/** The run's stored script with `set kiln_nbd …` put right after its #!ipxe line (the template reads ${kiln_nbd}). */
export function withDisklessPreamble(script: string, nbd: string): string {
  const nl = script.indexOf("\n");
  const [head, rest] = nl >= 0 && script.startsWith("#!ipxe") ? [script.slice(0, nl + 1), script.slice(nl + 1)] : ["#!ipxe\n", script];
  return `${head}set kiln_nbd ${nbd}\n${rest}`;
}

/** While the export is (re)starting: iPXE waits and asks again. */
export function disklessWaitScript(recheckUrl: string): string {
  return `#!ipxe\necho Kiln: this machine's diskless root is not exported yet; asking again in 5 seconds\nsleep 5\nchain --replace ${recheckUrl}\n`;
}
