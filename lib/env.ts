// The only reader of process.env. Everything else imports `env` from here, so a
// misconfiguration fails once, at start, with the variable's name in the message.
// One file, longer than most: every setting is declared here, beside its neighbours, on purpose.
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { DEPLOYMENT_STEP_NAMES } from "../db/schema/enums";

const csv = z
  .string()
  .default("")
  .transform((s) =>
    s
      .split(",")
      .map((p) => p.trim().toLowerCase())
      .filter(Boolean),
  );

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .default("")
  .transform((v) => v === "true" || v === "1" || v === "yes");

const optionalUrl = z
  .string()
  .optional()
  .transform((v) => (v ? v : undefined))
  .pipe(z.url().optional());

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  // Not HOSTNAME: shells and containers export that as the machine name.
  KILN_HOST: z.string().default("0.0.0.0"),
  KILN_DATA_DIR: z.string().default(".kiln"),
  KILN_URL: optionalUrl,
  // The URL machines use to reach Kiln while they boot (plain HTTP, no proxy auth), if it
  // differs from KILN_URL: e.g. http://10.1.0.5:3000 when people use https://kiln.lab.example.
  KILN_BOOT_URL: optionalUrl,
  // The boot server (machines' plane, lib/boot-server/): its port (default PORT + 1), the site
  // it serves, and a name for the admin console (default host:port).
  KILN_BOOT_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  KILN_SITE: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "letters, digits, dot, dash or underscore, at most 63")
    .default("default"),
  KILN_BOOT_SERVER_NAME: z.string().trim().min(1).max(100).optional(),
  // The boot server's TFTP for Raspberry Pis (docs/raspberry-pi.md): its port (69, what Pi
  // firmware asks; "off" for none) and address (default KILN_HOST).
  KILN_TFTP_PORT: z.union([z.literal("off"), z.coerce.number().int().min(1, "a port 1–65535, or off").max(65535, "a port 1–65535, or off")]).default(69),
  KILN_TFTP_HOST: z.string().trim().min(1).optional(),
  // Where a boot server forwards capture uploads: the portal (npm start sets it to the local port).
  KILN_PORTAL_URL: optionalUrl,
  DATABASE_URL: optionalUrl,
  AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  KILN_SECRET_KEY: z.string().min(32, "must be at least 32 characters").optional(),
  // Hours before a lease's end at which its holder is mailed.
  KILN_LEASE_REMINDER_HOURS: z
    .string()
    .default("24,1")
    .transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean).map(Number))
    .pipe(z.array(z.number().positive("must be positive hours")).max(10)),
  // Hours before a reservation's start at which its holder is mailed (its end is reminded as
  // a lease's: a reservation becomes a lease at its start).
  KILN_RESERVATION_REMINDER_HOURS: z
    .string()
    .default("24,1")
    .transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean).map(Number))
    .pipe(z.array(z.number().int("must be whole hours").positive("must be positive hours")).max(10)),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),

  KILN_REGISTRATION: z.enum(["open", "approval", "closed"]).default("open"),
  KILN_ALLOWED_EMAIL_DOMAINS: csv,
  KILN_TRUST_PROXY: bool,

  SMTP_URL: optionalUrl,
  MAIL_FROM: z.string().default("Kiln <kiln@localhost>"),

  LDAP_URL: optionalUrl,
  LDAP_BIND_DN: z.string().optional(),
  LDAP_BIND_PASSWORD: z.string().optional(),
  LDAP_BASE_DN: z.string().optional(),
  LDAP_USER_FILTER: z.string().default("(|(uid={login})(mail={login}))"),
  LDAP_ADMIN_GROUP_DN: z.string().optional(),
  LDAP_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),

  // Images: storage quotas (GB = 10^9 bytes; fractions allowed), how long an unfinished
  // upload is kept, where the bytes live, and nginx offload of blob delivery.
  KILN_STORAGE_QUOTA_PER_USER_GB: z.coerce.number().min(0).default(100),
  KILN_UPLOAD_EXPIRY_HOURS: z.coerce.number().positive().default(24),
  KILN_IMAGE_STORAGE: z.enum(["file", "s3"]).default("file"),
  KILN_S3_BUCKET: z.string().optional(),
  KILN_S3_REGION: z.string().default("us-east-1"),
  KILN_S3_ENDPOINT: optionalUrl,
  KILN_S3_ACCESS_KEY_ID: z.string().optional(),
  KILN_S3_SECRET_ACCESS_KEY: z.string().optional(),
  KILN_S3_FORCE_PATH_STYLE: bool,
  KILN_ACCEL_REDIRECT_PREFIX: z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined))
    .pipe(z.string().regex(/^\/[A-Za-z0-9._~\/-]*\/$/, "must be a path starting and ending with /, e.g. /protected-images/").optional()),
  // The scrub re-hashes stored versions, one at a time, oldest-verified first, reading at most
  // this many MiB/s (0 turns the scrub off), and each version again once its last check is
  // this many hours old. A re-check after a deploy failed its checksum reads at the same rate.
  KILN_SCRUB_MIB_PER_SECOND: z.coerce.number().min(0).default(50),
  KILN_SCRUB_INTERVAL_HOURS: z.coerce.number().positive().default(168),

  // Provisioning: per-step deadlines ("boot=120,install=5400", seconds; the rest keep their
  // defaults) and whether a host is wiped before it goes back to its pool at a lease's end.
  KILN_STEP_TIMEOUTS: z
    .string()
    .default("")
    .transform((s, ctx) => {
      try {
        return parseStepTimeouts(s);
      } catch (e) {
        ctx.addIssue({ code: "custom", message: (e as Error).message });
        return z.NEVER;
      }
    }),
  KILN_WIPE_ON_RELEASE: z.enum(["auto", "always", "never"]).default("auto"),
  // A machine that network-boots for the first time is commissioned (the deploy ramdisk reports
  // its hardware, then it goes off: docs/commissioning.md). false: it is only recorded, as before.
  KILN_COMMISSION_ON_DISCOVERY: z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .default("true")
    .transform((v) => v === "true" || v === "1" || v === "yes"),
  // How long the wipe at a lease's end waits for a machine Kiln cannot restart (Wake-on-LAN,
  // manual power) to network-boot — someone has to restart it or shut it down — before the host
  // goes to maintenance for an administrator. The host stays releasing (never leased) meanwhile.
  KILN_RELEASE_BOOT_WAIT_HOURS: z.coerce.number().positive().max(8760).default(168),
  // A capture reads this much of the disk per tus PATCH (compressed in the ramdisk's RAM, so
  // machines with little memory want less; a lost connection re-sends at most one chunk).
  KILN_CAPTURE_CHUNK_MIB: z.coerce
    .number()
    .int()
    .min(4)
    .max(1024)
    .refine((n) => n % 4 === 0, "must be a multiple of 4 (the agent reads the disk in 4 MiB blocks)")
    .default(32),
  // The deploy ramdisk's vmlinuz, initrd.img and manifest.json (scripts/build-ramdisk.sh writes
  // them; docs/ramdisk.md). Default: <KILN_DATA_DIR>/ramdisk.
  KILN_RAMDISK_DIR: z.string().optional(),
  // Install media Kiln serves under /boot/media/<set>/ (the Debian installer's kernel and initrd,
  // copied from a Debian package by `npm run media` and at start; docs/install-media.md).
  // Default: <KILN_DATA_DIR>/media.
  KILN_MEDIA_DIR: z.string().optional(),
  // The worker reads every host's power state this often (lib/power/poll.ts), at most this many
  // BMCs at a time, giving each this long before it counts as unknown ("did not answer").
  // 0 switches the poll off (states then change only through power actions and "Check now").
  KILN_POWER_POLL_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(86400)
    .refine((n) => n === 0 || n >= 5, "must be 0 (off) or at least 5 seconds")
    .default(60),
  KILN_POWER_POLL_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  KILN_POWER_POLL_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(20),

  KILN_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  // Failed sign-ins allowed before each further attempt waits 1 s, 2 s, 4 s … (per account up
  // to a minute, per address up to 30 minutes: lib/auth/sign-in-throttle.ts); not windowed.
  KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: z.coerce.number().int().min(1).default(10),
  KILN_RATE_LIMIT_SIGNIN_PER_IP: z.coerce.number().int().min(1).default(50),
  KILN_RATE_LIMIT_REGISTER_PER_IP: z.coerce.number().int().min(1).default(10),
  KILN_RATE_LIMIT_RESET_PER_ACCOUNT: z.coerce.number().int().min(1).default(5),
  KILN_RATE_LIMIT_RESET_PER_IP: z.coerce.number().int().min(1).default(20),

  // Lab access (issue 17, docs/lab-access.md). A writable directory: Kiln writes an entry per
  // active local account (their VPN login at labs that use OpenVPN with the directory). Off
  // unless KILN_DIRECTORY_URL is set; separate from LDAP_* (sign-in), which Kiln only reads.
  KILN_DIRECTORY_URL: optionalUrl,
  KILN_DIRECTORY_BIND_DN: z.string().optional(),
  KILN_DIRECTORY_BIND_PASSWORD: z.string().optional(),
  // The OU people's entries go under: uid=<uid>,<this>.
  KILN_DIRECTORY_PEOPLE_DN: z.string().optional(),
  KILN_DIRECTORY_OBJECT_CLASSES: z.string().default("inetOrgPerson,posixAccount"),
  // Inclusive "first-last" ranges for uidNumber and gidNumber (a private group per person at the
  // same offset in the gid range).
  KILN_DIRECTORY_UID_RANGE: z.string().regex(/^\d+-\d+$/, "must be first-last, e.g. 20000-29999").default("20000-29999"),
  KILN_DIRECTORY_GID_RANGE: z.string().regex(/^\d+-\d+$/, "must be first-last, e.g. 20000-29999").default("20000-29999"),
  // How userPassword is hashed: crypt-sha512 ({CRYPT}$6$, verified by slapd's crypt support) or ssha.
  KILN_DIRECTORY_PASSWORD_SCHEME: z.enum(["crypt-sha512", "ssha"]).default("crypt-sha512"),
  KILN_DIRECTORY_HOME: z.string().default("/home/{uid}"),
  KILN_DIRECTORY_SHELL: z.string().default("/bin/bash"),

  // WireGuard into the machines' network. Off unless KILN_VPN_ENDPOINT and the gateway's public key are set.
  // host:port the clients connect to (the lab gateway's public side).
  KILN_VPN_ENDPOINT: z.string().optional(),
  KILN_VPN_SERVER_PUBLIC_KEY: z.string().optional(),
  // Tunnel addresses; the gateway takes the first usable one, devices the rest.
  KILN_VPN_ADDRESS_RANGE: z.string().default("10.250.0.0/24"),
  // What the client routes into the tunnel (the machines' networks), comma-separated CIDRs.
  KILN_VPN_ALLOWED_IPS: z.string().default("10.0.0.0/8"),
  KILN_VPN_DNS: z.string().optional(),
  // true: a person's tunnel address may reach only the addresses of the machines they hold
  // (the rendered nftables rules); false: the whole KILN_VPN_ALLOWED_IPS.
  KILN_VPN_FOLLOW_LEASES: bool,
  // The gateway fetches its peer list and rules with this bearer token (GET /api/v1/vpn/gateway/*).
  KILN_VPN_GATEWAY_TOKEN: z.string().min(24, "must be at least 24 characters").optional(),
  // Also write the rendered files here (wg peers, nftables) when anything changes; empty: pull only.
  KILN_VPN_GATEWAY_DIR: z.string().optional(),
  // OpenVPN with the directory (openvpn-auth-ldap), for labs that run it: "host port" and the CA file.
  KILN_OPENVPN_REMOTE: z.string().optional(),
  KILN_OPENVPN_CA_FILE: z.string().optional(),

  // Extra disks for a lease (docs/diskless.md, "Extra disks"): sparse files under
  // <KILN_DATA_DIR>/disks (or this directory), counted at full size against the storage quotas.
  // How many live disks one host may have (0 turns the feature off) and the largest disk, in GB.
  KILN_EXTRA_DISKS_DIR: z.string().optional(),
  KILN_EXTRA_DISKS_PER_HOST: z.coerce.number().int().min(0).max(16).default(4),
  KILN_EXTRA_DISK_MAX_GB: z.coerce.number().positive().max(1_000_000).default(500),
  // NBD exports (lib/exports: diskless roots, extra disks): the address qemu-nbd listens on (the
  // boot network's address of this machine; never all addresses unless you say 0.0.0.0), and the
  // address machines dial (default: the listen address, or the boot URL's host when it is 0.0.0.0).
  KILN_NBD_BIND_ADDRESS: z.string().trim().min(1).default("127.0.0.1"),
  KILN_NBD_ADDRESS: z.string().trim().min(1).optional(),
  // The TCP ports exports may use, "first-last" (default: any free port). Set it when a firewall
  // stands between the machines and Kiln, so one known range is opened (the lab forwards it).
  KILN_NBD_PORTS: z
    .string()
    .trim()
    .regex(/^\d{1,5}-\d{1,5}$/, 'give a range like "10809-10899"')
    .refine((v) => {
      const [first = 0, last = 0] = v.split("-").map(Number);
      return first >= 1 && first <= last && last <= 65535;
    }, "the range must run from a lower port to a higher one, within 1-65535")
    .optional(),
});

type StepName = (typeof DEPLOYMENT_STEP_NAMES)[number];

/** "KILN_STEP_TIMEOUTS=boot=120,install=5400" → { boot: 120, install: 5400 }; a bad entry throws naming it. */
export function parseStepTimeouts(text: string | undefined): Partial<Record<StepName, number>> {
  const out: Partial<Record<StepName, number>> = {};
  for (const part of (text ?? "").split(",").map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z_]+)=(\d+(?:\.\d+)?)$/.exec(part);
    if (!m || !(DEPLOYMENT_STEP_NAMES as readonly string[]).includes(m[1]!) || Number(m[2]) <= 0) {
      throw new Error(`“${part}” is not step=seconds with a step among ${DEPLOYMENT_STEP_NAMES.join(", ")}`);
    }
    out[m[1] as StepName] = Number(m[2]);
  }
  return out;
}

export type Env = z.infer<typeof envSchema> & {
  /** Absolute data directory. */
  dataDir: string;
  /** Public base URL used in mails and printed links, without a trailing slash. */
  baseUrl: string;
  /** Base URL for machines: boot scripts, install files, callbacks. */
  bootUrl: string;
  /** The boot server's port (KILN_BOOT_PORT, else PORT + 1). */
  bootPort: number;
  /** Where the portal is reached from this machine's processes: KILN_PORTAL_URL, else KILN_URL, else the local port. */
  portalUrl: string;
  /** Absolute directory of the deploy ramdisk served under /boot/ramdisk/. */
  ramdiskDir: string;
  /** Absolute directory of the install media served under /boot/media/. */
  mediaDir: string;
  /** Absolute directory of the extra disks' sparse files (KILN_EXTRA_DISKS_DIR, else <KILN_DATA_DIR>/disks). */
  extraDisksDir: string;
  /** The address machines connect to for NBD exports (KILN_NBD_ADDRESS, else the bind address, else the boot URL's host). */
  nbdAddress: string;
  /** The ports NBD exports may use (KILN_NBD_PORTS), or null for any free port. */
  nbdPortRange: { first: number; last: number } | null;
  isLdapEnabled: boolean;
  /** Kiln writes directory entries (KILN_DIRECTORY_URL set). */
  isDirectoryEnabled: boolean;
  /** WireGuard devices can be added (KILN_VPN_ENDPOINT and KILN_VPN_SERVER_PUBLIC_KEY set). */
  isVpnEnabled: boolean;
};

export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid environment configuration:\n${lines.join("\n")}`);
  }
  const e = result.data;
  const bootPort = e.KILN_BOOT_PORT ?? (e.PORT === 65535 ? 65534 : e.PORT + 1);
  if (e.KILN_IMAGE_STORAGE === "s3" && !e.KILN_S3_BUCKET) {
    throw new Error("Invalid environment configuration:\n  KILN_S3_BUCKET: required when KILN_IMAGE_STORAGE=s3");
  }
  if (e.KILN_DIRECTORY_URL && (!e.KILN_DIRECTORY_PEOPLE_DN || !e.KILN_DIRECTORY_BIND_DN)) {
    throw new Error("Invalid environment configuration:\n  KILN_DIRECTORY_PEOPLE_DN, KILN_DIRECTORY_BIND_DN: required when KILN_DIRECTORY_URL is set");
  }
  if (Boolean(e.KILN_VPN_ENDPOINT) !== Boolean(e.KILN_VPN_SERVER_PUBLIC_KEY)) {
    throw new Error("Invalid environment configuration:\n  KILN_VPN_ENDPOINT, KILN_VPN_SERVER_PUBLIC_KEY: set both to offer WireGuard, or neither");
  }
  if (e.LDAP_URL && !e.LDAP_BASE_DN) {
    throw new Error("Invalid environment configuration:\n  LDAP_BASE_DN: required when LDAP_URL is set");
  }
  return {
    ...e,
    dataDir: path.resolve(e.KILN_DATA_DIR),
    // turbopackIgnore: a runtime directory, not a source file for the build to trace.
    ramdiskDir: path.resolve(/*turbopackIgnore: true*/ e.KILN_RAMDISK_DIR || path.join(e.KILN_DATA_DIR, "ramdisk")),
    mediaDir: path.resolve(/*turbopackIgnore: true*/ e.KILN_MEDIA_DIR || path.join(e.KILN_DATA_DIR, "media")),
    extraDisksDir: path.resolve(/*turbopackIgnore: true*/ e.KILN_EXTRA_DISKS_DIR || path.join(e.KILN_DATA_DIR, "disks")),
    nbdAddress: e.KILN_NBD_ADDRESS ?? (e.KILN_NBD_BIND_ADDRESS === "0.0.0.0" || e.KILN_NBD_BIND_ADDRESS === "::" ? (hostOf(e.KILN_BOOT_URL ?? e.KILN_URL) ?? "localhost") : e.KILN_NBD_BIND_ADDRESS),
    nbdPortRange: e.KILN_NBD_PORTS ? { first: Number(e.KILN_NBD_PORTS.split("-")[0]), last: Number(e.KILN_NBD_PORTS.split("-")[1]) } : null,
    baseUrl: (e.KILN_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ""),
    // Machines talk to the boot server, not the portal: by default the portal's host name on the
    // boot port (KILN_URL may be an https name behind a proxy; the boot port is plain HTTP).
    bootUrl: (e.KILN_BOOT_URL ?? `http://${hostOf(e.KILN_URL) ?? "localhost"}:${bootPort}`).replace(/\/+$/, ""),
    bootPort,
    portalUrl: (e.KILN_PORTAL_URL ?? e.KILN_URL ?? `http://127.0.0.1:${e.PORT}`).replace(/\/+$/, ""),
    isLdapEnabled: Boolean(e.LDAP_URL),
    isDirectoryEnabled: Boolean(e.KILN_DIRECTORY_URL),
    isVpnEnabled: Boolean(e.KILN_VPN_ENDPOINT && e.KILN_VPN_SERVER_PUBLIC_KEY),
  };
}

/** The host name of a URL, bracketed if IPv6; undefined when there is no URL. */
function hostOf(url: string | undefined): string | undefined {
  return url ? new URL(url).hostname : undefined;
}

let cached: Env | undefined;

/** Parsed once per process; tests that change variables call `resetEnv()`. */
export function getEnv(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

export function resetEnv(): void {
  cached = undefined;
}

/** For the launcher: hand settings it derived (database URL, secret) to child processes and itself. */
export function setEnvForProcess(values: Record<string, string>): void {
  for (const [k, v] of Object.entries(values)) process.env[k] = v;
  cached = undefined;
}

/** The opposite of setEnvForProcess: tests clear variables a developer's shell exported. */
export function unsetEnvForProcess(keys: readonly string[]): void {
  for (const k of keys) delete process.env[k];
  cached = undefined;
}

export function getProcessEnv(): NodeJS.ProcessEnv {
  return process.env;
}

/**
 * Kiln's build cache, shared by every data directory on this machine: ${XDG_CACHE_HOME:-~/.cache}/kiln
 * (scripts/build-ramdisk.sh and build-cloud-image.sh use the same folder). Not part of Env:
 * it is a per-user place for things built from inputs, not a setting of one Kiln.
 */
export function getCacheDir(...parts: string[]): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "kiln", ...parts);
}
