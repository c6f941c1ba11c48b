// Kiln's settings during integration tests. lib/env.ts caches what it parsed, so every
// change goes through setEnvForProcess (which drops that cache).
import { setEnvForProcess, unsetEnvForProcess } from "@/lib/env";

export const TEST_BASE_URL = "http://kiln.test";

/**
 * Every variable a test may depend on. Values the developer's shell exported for them are
 * cleared before each test, so a local KILN_REGISTRATION=closed cannot change a result.
 */
const CONTROLLED = [
  "DATABASE_URL",
  "KILN_URL",
  "KILN_BOOT_URL",
  "KILN_BOOT_PORT",
  "KILN_SITE",
  "KILN_BOOT_SERVER_NAME",
  "KILN_TFTP_PORT",
  "KILN_TFTP_HOST",
  "KILN_COMMISSION_ON_DISCOVERY",
  "KILN_PORTAL_URL",
  "KILN_DATA_DIR",
  "AUTH_SECRET",
  "KILN_SECRET_KEY",
  "KILN_LEASE_REMINDER_HOURS",
  "KILN_RESERVATION_REMINDER_HOURS",
  "KILN_REGISTRATION",
  "KILN_ALLOWED_EMAIL_DOMAINS",
  "KILN_TRUST_PROXY",
  "SMTP_URL",
  "MAIL_FROM",
  "LDAP_URL",
  "LDAP_BIND_DN",
  "LDAP_BIND_PASSWORD",
  "LDAP_BASE_DN",
  "LDAP_USER_FILTER",
  "LDAP_ADMIN_GROUP_DN",
  "LDAP_TIMEOUT_MS",
  "KILN_STORAGE_QUOTA_PER_USER_GB",
  "KILN_UPLOAD_EXPIRY_HOURS",
  "KILN_IMAGE_STORAGE",
  "KILN_S3_BUCKET",
  "KILN_S3_REGION",
  "KILN_S3_ENDPOINT",
  "KILN_S3_ACCESS_KEY_ID",
  "KILN_S3_SECRET_ACCESS_KEY",
  "KILN_S3_FORCE_PATH_STYLE",
  "KILN_ACCEL_REDIRECT_PREFIX",
  "KILN_STEP_TIMEOUTS",
  "KILN_CAPTURE_CHUNK_MIB",
  "KILN_WIPE_ON_RELEASE",
  "KILN_RELEASE_BOOT_WAIT_HOURS",
  "KILN_RAMDISK_DIR",
  "KILN_RATE_LIMIT_WINDOW_SECONDS",
  "KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT",
  "KILN_RATE_LIMIT_SIGNIN_PER_IP",
  "KILN_RATE_LIMIT_REGISTER_PER_IP",
  "KILN_RATE_LIMIT_RESET_PER_ACCOUNT",
  "KILN_RATE_LIMIT_RESET_PER_IP",
  "KILN_SCRUB_MIB_PER_SECOND",
  "KILN_SCRUB_INTERVAL_HOURS",
  "KILN_POWER_POLL_SECONDS",
  "KILN_POWER_POLL_CONCURRENCY",
  "KILN_POWER_POLL_TIMEOUT_SECONDS",
  "KILN_DIRECTORY_URL",
  "KILN_DIRECTORY_BIND_DN",
  "KILN_DIRECTORY_BIND_PASSWORD",
  "KILN_DIRECTORY_PEOPLE_DN",
  "KILN_DIRECTORY_OBJECT_CLASSES",
  "KILN_DIRECTORY_UID_RANGE",
  "KILN_DIRECTORY_GID_RANGE",
  "KILN_DIRECTORY_PASSWORD_SCHEME",
  "KILN_DIRECTORY_HOME",
  "KILN_DIRECTORY_SHELL",
  "KILN_VPN_ENDPOINT",
  "KILN_VPN_SERVER_PUBLIC_KEY",
  "KILN_VPN_ADDRESS_RANGE",
  "KILN_VPN_ALLOWED_IPS",
  "KILN_VPN_DNS",
  "KILN_VPN_FOLLOW_LEASES",
  "KILN_VPN_GATEWAY_TOKEN",
  "KILN_VPN_GATEWAY_DIR",
  "KILN_OPENVPN_REMOTE",
  "KILN_OPENVPN_CA_FILE",
  "KILN_EXTRA_DISKS_DIR",
  "KILN_EXTRA_DISKS_PER_HOST",
  "KILN_EXTRA_DISK_MAX_GB",
  "KILN_NBD_BIND_ADDRESS",
  "KILN_NBD_ADDRESS",
] as const;

export type TestEnv = Partial<Record<(typeof CONTROLLED)[number], string | undefined>>;

let fileDefaults: TestEnv = {};

/** Settings for every test of this file (e.g. SMTP_URL of the file's SMTP server); applied at once. */
export function setTestEnvDefaults(values: TestEnv): void {
  fileDefaults = { ...fileDefaults, ...values };
  setTestEnv();
}

/** The file's defaults plus these overrides; an `undefined` override unsets the variable. */
export function setTestEnv(overrides: TestEnv = {}): void {
  unsetEnvForProcess(CONTROLLED);
  // Machines reach the test's Kiln at the same name (a boot server would be KILN_URL's host on PORT + 1).
  // No power poll unless a test asks: its status calls would land in the recordings of the
  // power plugins and BMC simulators that other tests assert on.
  const merged: Record<string, string> = { KILN_URL: TEST_BASE_URL, KILN_BOOT_URL: TEST_BASE_URL, KILN_SECRET_KEY: "test-secret-key-for-sealing-power-passwords", KILN_POWER_POLL_SECONDS: "0" };
  for (const [k, v] of Object.entries({ ...fileDefaults, ...overrides })) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  setEnvForProcess(merged);
}
