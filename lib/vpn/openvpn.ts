// The OpenVPN client profile, for labs whose VPN is OpenVPN with the directory as its password
// check (openvpn-auth-ldap on the server; docs/lab-access.md has the server's side). The person
// signs in with their directory uid and password: the profile carries no key of theirs, only the
// server's address and the CA that vouches for it, so one file per person is only a convenience.
// Pure: the caller reads KILN_OPENVPN_CA_FILE and passes its text.

export type OpenVpnProfileInput = {
  /** KILN_OPENVPN_REMOTE: "host port", optionally a protocol ("vpn.lab.example 1194 udp"). */
  remote: string;
  /** The CA certificate(s), PEM. */
  ca: string;
  /** The directory uid to sign in with: only a hint in the file (OpenVPN asks for it). */
  username: string;
};

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$|^[0-9a-fA-F:.]+$/;
const PEM_CERT = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/g;

/** host, port and protocol of KILN_OPENVPN_REMOTE; throws a message naming the setting when malformed. */
export function parseOpenVpnRemote(remote: string): { host: string; port: number; proto: "udp" | "tcp" } {
  const [host = "", portText = "1194", proto = "udp", ...rest] = remote.trim().split(/\s+/);
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!HOST.test(host) || !(port >= 1 && port <= 65535) || (proto !== "udp" && proto !== "tcp") || rest.length) {
    throw new Error(`KILN_OPENVPN_REMOTE "${remote}" is not "host port [udp|tcp]" (e.g. "vpn.lab.example 1194")`);
  }
  return { host, port, proto };
}

/** Only the CERTIFICATE blocks of the PEM text; throws when there is none. */
export function certificatesOf(pem: string): string[] {
  const certs = pem.match(PEM_CERT)?.map((c) => c.replace(/\r/g, "")) ?? [];
  if (certs.length === 0) throw new Error("KILN_OPENVPN_CA_FILE holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
  return certs;
}

/** The .ovpn file: a routed client that asks for the directory uid and password (auth-user-pass). */
export function renderOpenVpnProfile(input: OpenVpnProfileInput): string {
  const { host, port, proto } = parseOpenVpnRemote(input.remote);
  // A uid is a plain name; anything else is dropped rather than let it end the comment line.
  const username = input.username.replace(/[^\w.@-]/g, "");
  return [
    `# OpenVPN profile from Kiln for ${username}.`,
    `# Sign in with your directory account: username ${username} and its password (the one you chose in Kiln).`,
    "client",
    "dev tun",
    `proto ${proto}`,
    `remote ${host} ${port}`,
    "resolv-retry infinite",
    "nobind",
    "persist-key",
    "persist-tun",
    // Only a certificate issued for a server (not another client's) is accepted as the server.
    "remote-cert-tls server",
    "auth-user-pass",
    // The password is asked each time and not kept in memory for renegotiations.
    "auth-nocache",
    "verb 3",
    "<ca>",
    ...certificatesOf(input.ca),
    "</ca>",
    "",
  ].join("\n");
}
