import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseEnv } from "./env";

describe("parseEnv", () => {
  it("fills defaults for an empty environment", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      NODE_ENV: "development",
      PORT: 3000,
      KILN_REGISTRATION: "open",
      KILN_ALLOWED_EMAIL_DOMAINS: [],
      KILN_TRUST_PROXY: false,
      LDAP_USER_FILTER: "(|(uid={login})(mail={login}))",
      KILN_RATE_LIMIT_SIGNIN_PER_ACCOUNT: 10,
      baseUrl: "http://localhost:3000",
      isLdapEnabled: false,
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.SMTP_URL).toBeUndefined();
  });

  it("derives the base URL from KILN_URL without trailing slashes, else from PORT", () => {
    expect(parseEnv({ KILN_URL: "https://kiln.lab.example/" }).baseUrl).toBe("https://kiln.lab.example");
    expect(parseEnv({ KILN_URL: "https://kiln.lab.example//" }).baseUrl).toBe("https://kiln.lab.example");
    expect(parseEnv({ PORT: "8080" }).baseUrl).toBe("http://localhost:8080");
  });

  it("lower-cases and trims the allowed email domains and drops empty entries", () => {
    expect(parseEnv({ KILN_ALLOWED_EMAIL_DOMAINS: " Lab.Example ,, uni.TEST " }).KILN_ALLOWED_EMAIL_DOMAINS).toEqual([
      "lab.example",
      "uni.test",
    ]);
  });

  it("reads yes/true/1 as true and anything in the closed set else as false", () => {
    for (const v of ["true", "1", "yes"]) expect(parseEnv({ KILN_TRUST_PROXY: v }).KILN_TRUST_PROXY).toBe(true);
    for (const v of ["false", "0", "no", ""]) expect(parseEnv({ KILN_TRUST_PROXY: v }).KILN_TRUST_PROXY).toBe(false);
    expect(() => parseEnv({ KILN_TRUST_PROXY: "maybe" })).toThrow(/KILN_TRUST_PROXY/);
  });

  it("serves the deploy ramdisk from <data dir>/ramdisk unless KILN_RAMDISK_DIR names another directory", () => {
    expect(parseEnv({ KILN_DATA_DIR: "/var/lib/kiln" }).ramdiskDir).toBe("/var/lib/kiln/ramdisk");
    expect(parseEnv({ KILN_DATA_DIR: "/var/lib/kiln", KILN_RAMDISK_DIR: "/srv/kiln-ramdisk/" }).ramdiskDir).toBe("/srv/kiln-ramdisk");
    expect(parseEnv({ KILN_RAMDISK_DIR: "" }).ramdiskDir).toBe(path.resolve(".kiln/ramdisk"));
    expect(parseEnv({ KILN_DATA_DIR: "/var/lib/kiln" }).mediaDir).toBe("/var/lib/kiln/media");
    expect(parseEnv({ KILN_DATA_DIR: "/var/lib/kiln", KILN_MEDIA_DIR: "/srv/media/" }).mediaDir).toBe("/srv/media");
  });

  it("reads KILN_NBD_PORTS as a port range and refuses a range that is not one", () => {
    expect(parseEnv({}).nbdPortRange).toBeNull();
    expect(parseEnv({ KILN_NBD_PORTS: "10809-10899" }).nbdPortRange).toEqual({ first: 10809, last: 10899 });
    expect(() => parseEnv({ KILN_NBD_PORTS: "10899-10809" })).toThrow(/KILN_NBD_PORTS: the range must run from a lower port to a higher one/);
    expect(() => parseEnv({ KILN_NBD_PORTS: "10809" })).toThrow(/KILN_NBD_PORTS: give a range like "10809-10899"/);
    expect(() => parseEnv({ KILN_NBD_PORTS: "1-70000" })).toThrow(/KILN_NBD_PORTS/);
  });

  it("treats an empty optional URL as unset", () => {
    expect(parseEnv({ SMTP_URL: "", DATABASE_URL: "" })).toMatchObject({ SMTP_URL: undefined, DATABASE_URL: undefined });
  });

  it("names every invalid variable in one error", () => {
    let message = "";
    try {
      parseEnv({ PORT: "99999", KILN_REGISTRATION: "sometimes", SMTP_URL: "not a url", AUTH_SECRET: "short" });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^Invalid environment configuration:/);
    for (const name of ["PORT", "KILN_REGISTRATION", "SMTP_URL", "AUTH_SECRET"]) expect(message).toContain(`  ${name}: `);
    expect(message).toContain("AUTH_SECRET: must be at least 32 characters");
  });

  it("requires LDAP_BASE_DN when LDAP_URL is set", () => {
    expect(() => parseEnv({ LDAP_URL: "ldap://127.0.0.1:389" })).toThrow("LDAP_BASE_DN: required when LDAP_URL is set");
    const env = parseEnv({ LDAP_URL: "ldap://127.0.0.1:389", LDAP_BASE_DN: "dc=lab,dc=example" });
    expect(env.isLdapEnabled).toBe(true);
  });

  it("coerces rate limits and refuses zero", () => {
    expect(parseEnv({ KILN_RATE_LIMIT_SIGNIN_PER_IP: "3" }).KILN_RATE_LIMIT_SIGNIN_PER_IP).toBe(3);
    expect(() => parseEnv({ KILN_RATE_LIMIT_SIGNIN_PER_IP: "0" })).toThrow(/KILN_RATE_LIMIT_SIGNIN_PER_IP/);
  });

  it("reads the image settings: quotas with fractions, the storage backend, the nginx prefix", () => {
    const env = parseEnv({});
    expect([env.KILN_STORAGE_QUOTA_PER_USER_GB, env.KILN_UPLOAD_EXPIRY_HOURS, env.KILN_IMAGE_STORAGE, env.KILN_ACCEL_REDIRECT_PREFIX]).toEqual([100, 24, "file", undefined]);
    expect(parseEnv({ KILN_STORAGE_QUOTA_PER_USER_GB: "0.5" }).KILN_STORAGE_QUOTA_PER_USER_GB).toBe(0.5);
    expect(() => parseEnv({ KILN_IMAGE_STORAGE: "s3" })).toThrow("KILN_S3_BUCKET: required when KILN_IMAGE_STORAGE=s3");
    expect(parseEnv({ KILN_IMAGE_STORAGE: "s3", KILN_S3_BUCKET: "images", KILN_S3_FORCE_PATH_STYLE: "true" })).toMatchObject({ KILN_S3_BUCKET: "images", KILN_S3_FORCE_PATH_STYLE: true });
    expect(parseEnv({ KILN_ACCEL_REDIRECT_PREFIX: "/protected-images/" }).KILN_ACCEL_REDIRECT_PREFIX).toBe("/protected-images/");
    expect(() => parseEnv({ KILN_ACCEL_REDIRECT_PREFIX: "protected" })).toThrow(/KILN_ACCEL_REDIRECT_PREFIX/);
    expect(() => parseEnv({ KILN_UPLOAD_EXPIRY_HOURS: "0" })).toThrow(/KILN_UPLOAD_EXPIRY_HOURS/);
  });

  it("reads the capture chunk size: 32 MiB by default, a multiple of 4 from 4 to 1024", () => {
    expect(parseEnv({}).KILN_CAPTURE_CHUNK_MIB).toBe(32);
    expect(parseEnv({ KILN_CAPTURE_CHUNK_MIB: "8" }).KILN_CAPTURE_CHUNK_MIB).toBe(8);
    expect(() => parseEnv({ KILN_CAPTURE_CHUNK_MIB: "10" })).toThrow(/KILN_CAPTURE_CHUNK_MIB.*multiple of 4/);
    expect(() => parseEnv({ KILN_CAPTURE_CHUNK_MIB: "0" })).toThrow(/KILN_CAPTURE_CHUNK_MIB/);
    expect(() => parseEnv({ KILN_CAPTURE_CHUNK_MIB: "2048" })).toThrow(/KILN_CAPTURE_CHUNK_MIB/);
  });
});
