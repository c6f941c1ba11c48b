// The values of every PostgreSQL enum of the schema, as plain lists that import nothing: each
// pgEnum is built from its list here, and lib/ derives its zod enums and types from the same lists
// instead of repeating the values. Kept free of drizzle because lib/validation and the host state
// machine, which import them, are bundled into client components too.

// deployments.ts: a run's step names. Stored as text (deployment_steps.name), not a pgEnum, but a
// closed list all the same; here so lib/env can check KILN_STEP_TIMEOUTS without the planner.
export const DEPLOYMENT_STEP_NAMES = ["power_on", "boot", "agent", "write", "verify", "install", "wipe", "capture", "inventory", "first_boot", "power_off", "root"] as const;

// users.ts
export const USER_ROLES = ["user", "admin"] as const;
export const AUTH_SOURCES = ["local", "ldap"] as const;

// auth.ts
export const ONE_TIME_TOKEN_PURPOSES = ["verify_email", "reset_password", "first_admin"] as const;

// mail.ts
export const MAIL_STATUSES = ["logged", "sent", "failed"] as const;

// inventory.ts
export const HOST_STATES = ["new", "available", "leased", "releasing", "maintenance", "broken"] as const;
export const HOST_ARCHES = ["x86_64", "arm64"] as const;
export const POWER_STATES = ["on", "off", "unknown"] as const;
export const HOST_ADDRESS_SOURCES = ["boot", "agent", "installed"] as const;
export const PROJECT_ROLES = ["member", "leader"] as const;
export const LEASE_STATES = ["active", "released", "expired"] as const;
// Where an ending lease is (lib/leases/staged-end.ts): reminded, in its grace period (capture
// offered), capturing, and then its hosts' release (power off, wipe, back to the pool).
export const LEASE_END_STAGES = ["warned", "grace", "capturing", "releasing", "returned"] as const;

// boot.ts
export const TEMPLATE_KINDS = ["system", "unattended"] as const;
export const TEMPLATE_FORMATS = ["ipxe", "preseed", "kickstart", "cloud-init", "script"] as const;
export const TEMPLATE_VISIBILITIES = ["private", "project", "public"] as const;

// images.ts
export const IMAGE_VISIBILITIES = ["private", "project", "public"] as const;
export const IMAGE_VERSION_STATES = ["uploading", "verifying", "ready", "failed"] as const;
// Detected from the bytes (magic numbers), never from the file name.
export const IMAGE_FORMATS = ["raw", "raw-mbr", "raw-gpt", "qcow2", "gzip", "zstd", "xz", "iso", "unknown"] as const;

// deployments.ts
// commission: the deploy ramdisk reports the hardware (facts, docs/commissioning.md) and the machine goes off.
export const DEPLOYMENT_ACTIONS = ["install", "deploy_image", "capture_disk", "wipe_disk", "commission"] as const;
export const DEPLOYMENT_STATES = ["pending", "running", "done", "failed", "cancelled"] as const;
// system: Kiln's own run outside any lease (commissioning on discovery, or an admin's "Commission").
export const DEPLOYMENT_ORIGINS = ["holder", "release", "system"] as const;
export const DEPLOYMENT_STEP_STATES = ["pending", "running", "done", "failed", "skipped", "cancelled"] as const;

// host-facts.ts
export const HOST_FACT_SOURCES = ["commission", "deploy"] as const;

// reservations.ts
// scheduled: admitted, hosts chosen, before its preparation starts.
// preparing: its lease exists (from prepare_from), what it names is being deployed for the start.
// active: started (its lease runs to ends_at). ended: its lease ended. cancelled: by its holder or an admin
// before the start. failed: could not start (no host to give it; said in failure_reason).
export const RESERVATION_STATES = ["scheduled", "preparing", "active", "ended", "cancelled", "failed"] as const;

// access.ts
// created: Kiln added the entry and may change or remove it. linked: an admin tied an entry
// Kiln found (and refused to overwrite) to this account; Kiln keeps it in step from then on.
export const DIRECTORY_ENTRY_ORIGINS = ["created", "linked"] as const;
// What the directory should hold. present: the entry with the person's password. disabled: the
// entry kept, its password locked. absent: the entry removed (the account was deleted, or is
// no longer active); the row goes once the directory agrees.
export const DIRECTORY_ENTRY_DESIRED_STATES = ["present", "disabled", "absent"] as const;
// browser: the key pair was made in the person's browser; Kiln only ever saw the public key.
// server: Kiln made it and showed the private key once. pasted: the person gave a public key.
export const VPN_KEY_ORIGINS = ["browser", "server", "pasted"] as const;

// lease-disks.ts
export const LEASE_DISK_STATES = ["creating", "ready", "wiping", "wiped"] as const;
