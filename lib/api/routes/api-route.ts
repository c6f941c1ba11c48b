// The shape of a registry entry, and the tags the document groups operations under (in their order).
import type { z } from "zod";

export const API_TAGS = [
  { name: "Hosts", description: "The machines: inventory, state and history. Researchers see the hosts they hold; administrators see and change all." },
  { name: "Pools", description: "Groups of hosts with a lease policy (default and maximum duration). Everyone leases from them; administrators manage them." },
  { name: "Sites", description: "Where hosts are and which boot server answers them: each site has a boot URL its machines are told to use, and one or more boot servers reporting a heartbeat. Administrators only." },
  { name: "Projects", description: "Leases are charged to a project, which may cap hosts at once, lease length and node-hours per month." },
  { name: "Leases", description: "A bounded claim on hosts. Grants are all-or-nothing and race-free." },
  { name: "Reservations", description: "Hosts booked ahead: N hosts of a pool from a start to an end, admitted only if capacity and the project's quotas hold at every moment; the hosts are chosen at admission, become a lease at the start (earlier, to deploy what it names ready at the start), and are re-chosen if one fails before. Maintenance windows (administrators) take a pool or a host out of service for a time." },
  { name: "Calendar", description: "Who holds a pool's hosts when (leases, reservations, maintenance), and ICS feeds of one's own bookings or of a pool's for calendar clients." },
  { name: "Templates", description: "iPXE boot scripts and unattended-install files (preseed, kickstart, cloud-init) as versioned data; private, shared with a project, or public." },
  { name: "Images", description: "OS disk images with numbered versions (`latest` = the newest ready one). Bytes arrive through the tus endpoint `/api/uploads` and leave through `/images/{id}/versions/{version}/blob`; see the README." },
  { name: "Network boot", description: "What a held host boots next: its templates and variables, and marks for reinstall." },
  { name: "Provisioning", description: "Runs that reinstall, deploy an image to, capture or wipe a held host: steps with deadlines and reasons, progress, logs, a live feed, cancel and retry." },
  { name: "Records", description: "The experiment record of each install or image deploy a holder starts: image version and sha256, template versions and the sha256 of what was rendered, vars, kernel command line, the machine's facts; exportable as JSON at a permanent URL, publishable, re-runnable." },
  { name: "Lab access", description: "WireGuard devices into the machines' network: each device has a key pair (made in the browser, pasted, or made by Kiln with the private key shown once) and a tunnel address; a wg-quick file per device; revoke per device. Active accounts only; 404 when WireGuard is not configured on this Kiln. An OpenVPN profile where the lab runs OpenVPN with the directory." },
  { name: "Audit", description: "Every change, written in the same transaction as the change." },
  { name: "Users", description: "Who you are; administrators manage accounts." },
  { name: "Directory", description: "The entries Kiln writes in the lab's directory (LDAP) for active local accounts: their status, a re-sync, and linking an entry that was there before Kiln. Administrators only; docs/lab-access.md." },
  { name: "Account", description: "The caller's own profile, SSH keys and personal access tokens." },
  { name: "Session", description: "Browser sign-in, registration, email verification and password reset (cookies; scripts use a token instead)." },
  { name: "VPN gateway", description: "What the lab's WireGuard gateway pulls: its peers and its nftables forwarding rules, rendered from the people's devices and (when access follows leases) the machines they hold. Read with the gateway's own token (`Authorization: Bearer <KILN_VPN_GATEWAY_TOKEN>`), never a person's; docs/lab-access.md describes the gateway's setup." },
  { name: "System", description: "Health and this document." },
] as const;

export type ApiTag = (typeof API_TAGS)[number]["name"];

/** public: no credentials; user: any signed-in account or its token; admin: administrators only. */
export type ApiAuth = "public" | "user" | "admin";

export type ApiResponse = { status: number; description: string };

export type ApiRoute = {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** OpenAPI form of the file path: app/api/v1/hosts/[id]/route.ts → /api/v1/hosts/{id}. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: ApiTag;
  auth: ApiAuth;
  /** Path parameters and what they name. */
  params?: Record<string, string>;
  query?: z.ZodType;
  body?: z.ZodType;
  /** An action whose body may be left out entirely (it then means `{}`). */
  bodyOptional?: boolean;
  /** `schema`: the answer's zod contract (lib/validation), which the document shows as the response body. */
  success: ApiResponse & { list?: boolean; schema?: z.ZodType; contentType?: string };
  /** Refusals particular to this operation; 401/403/400/413 follow from auth, query and body. */
  errors?: ApiResponse[];
};
