// Whether machines can reach the boot URL they are told. A loopback name in it (the default
// when neither KILN_BOOT_URL nor KILN_URL is set) means, on a booting machine, the machine
// itself: every chain-load fails, silently from Kiln's side. Pure, so the start log, the admin
// banner and the DHCP snippets page say the same thing.

/** Why machines cannot reach `url`, or null when they can (as far as Kiln can tell from the name). */
export function unreachableBootUrlReason(url: string): string | null {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase().replace(/^\[|\]$/g, "");
  } catch {
    return `${url} is not a URL`;
  }
  if (host === "localhost" || host.endsWith(".localhost") || host === "localhost.localdomain") return `${host} is, on each machine, the machine itself`;
  if (/^127\.\d+\.\d+\.\d+$/.test(host)) return `${host} is a loopback address: on each machine, the machine itself`;
  if (host === "::1" || host === "0:0:0:0:0:0:0:1" || host === "::ffff:127.0.0.1" || /^::ffff:7f/.test(host)) return `${host} is the IPv6 loopback address: on each machine, the machine itself`;
  if (host === "0.0.0.0" || host === "::") return `${host} is not an address a machine can connect to`;
  return null;
}

/** The warning the start log, the admin banner and the network-boot page show, or null. */
export function bootUrlWarning(url: string, bootPort: number): { reason: string; text: string; fix: string } | null {
  const reason = unreachableBootUrlReason(url);
  if (!reason) return null;
  return {
    reason,
    text: `Machines cannot reach the boot URL ${url}: ${reason}.`,
    fix: `Set KILN_BOOT_URL to an address the machines can reach, such as http://<this server's address on the lab network>:${bootPort}, and restart Kiln (or set the site's boot URL under Admin → Sites).`,
  };
}

/**
 * What `npm start` says about network boot: the chain URL machines are really told (the boot
 * URL's, never the portal's: behind KILN_BOOT_URL they differ), where it came from, and the
 * warning when machines cannot reach it.
 */
export function bootStartLines(p: { baseUrl: string; bootUrl: string; bootPort: number; isBootUrlSet: boolean }): string[] {
  const source = p.isBootUrlSet ? "KILN_BOOT_URL" : `derived from KILN_URL and the boot port ${p.bootPort}; set KILN_BOOT_URL to change it`;
  const lines = [`Machines chain-load ${p.bootUrl}/boot/chain.ipxe (${source}); the boot server listens on port ${p.bootPort}. DHCP snippets: ${p.baseUrl}/admin/network-boot`];
  const warning = bootUrlWarning(p.bootUrl, p.bootPort);
  if (warning) lines.push(`warning: ${warning.text} ${warning.fix}`);
  return lines;
}
