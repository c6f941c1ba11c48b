import { describe, expect, it } from "vitest";
import { listRowsAsJson } from "@/db/queries/testing";
import { updateUser } from "@/db/queries/users";
import { createActiveUser, expectAppError } from "@/test/harness/fixtures";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv } from "@/test/harness/env";
import { actorOf } from "../access/actor";
import { searchAudit } from "../audit/audit";
import { RANGE_FULL_MESSAGE } from "./addresses";
import {
  createVpnDevice,
  getMyVpnDeviceConfig,
  listAllVpnDevices,
  listMyVpnDevices,
  MAX_VPN_DEVICES_PER_USER,
  revokeVpnDevice,
  VPN_DISABLED_MESSAGE,
} from "./devices";
import { generateKeyPair, PRIVATE_KEY_PLACEHOLDER, publicKeyOf } from "./wireguard";

const t = await useTestDb();
const SERVER = generateKeyPair();
const VPN = {
  KILN_VPN_ENDPOINT: "vpn.lab.example:51820",
  KILN_VPN_SERVER_PUBLIC_KEY: SERVER.publicKey,
  KILN_VPN_ALLOWED_IPS: "10.20.0.0/16, 10.30.0.0/16",
};

/** Each test gets a range of its own, so the addresses one test sees are not another's. */
let rangeCounter = 0;
function withVpn(extra: Record<string, string> = {}): string {
  const range = `10.${100 + ++rangeCounter}.0.0/24`;
  setTestEnv({ ...VPN, KILN_VPN_ADDRESS_RANGE: range, ...extra });
  return range.replace(/\.0\/24$/, "");
}

async function person(admin = false) {
  const { user } = await createActiveUser(t.db, { admin });
  return actorOf(user, null);
}

describe("WireGuard devices", () => {
  it("a person adds a device with their public key, lists it, downloads its file, and revokes it", async () => {
    const net = withVpn();
    const me = await person();
    const pair = generateKeyPair();
    const created = await createVpnDevice(t.db, me, { name: "laptop", publicKey: ` ${pair.publicKey}\n`, keyOrigin: "browser" });
    expect(created).toMatchObject({ name: "laptop", publicKey: pair.publicKey, address: `${net}.2`, keyOrigin: "browser", privateKey: null, revokedAt: null });
    // Kiln never had the private key: the file says where it goes.
    expect(created.config).toContain(`PrivateKey = ${PRIVATE_KEY_PLACEHOLDER}`);
    expect(created.config).toContain(`Address = ${net}.2/32`);
    expect(created.config).toContain(`PublicKey = ${SERVER.publicKey}`);
    expect(created.config).toContain("Endpoint = vpn.lab.example:51820");
    expect(created.config).toContain("AllowedIPs = 10.20.0.0/16, 10.30.0.0/16");

    const pasted = await createVpnDevice(t.db, me, { name: "phone", publicKey: generateKeyPair().publicKey });
    expect(pasted).toMatchObject({ address: `${net}.3`, keyOrigin: "pasted" });

    expect((await listMyVpnDevices(t.db, me)).data.map((d) => d.name)).toEqual(["laptop", "phone"]);
    // Someone else sees none of them.
    const other = await person();
    expect((await listMyVpnDevices(t.db, other)).data).toEqual([]);
    await expectAppError(getMyVpnDeviceConfig(t.db, other, created.id), "not_found");
    await expectAppError(revokeVpnDevice(t.db, other, created.id, "own"), "not_found");

    const file = await getMyVpnDeviceConfig(t.db, me, created.id);
    expect(file.filename).toBe("kiln-laptop.conf");
    expect(file.text).toBe(created.config);

    const revoked = await revokeVpnDevice(t.db, me, created.id, "own");
    expect(revoked.ok).toBe(true);
    // Twice is fine (a double click), and changes nothing.
    expect((await revokeVpnDevice(t.db, me, created.id, "own")).revokedAt).toEqual(revoked.revokedAt);
    expect((await listMyVpnDevices(t.db, me)).data.map((d) => d.name)).toEqual(["phone"]);
    await expectAppError(getMyVpnDeviceConfig(t.db, me, created.id), "not_found", "That device does not exist, or was revoked.");

    // The freed address and the key may be used again.
    const again = await createVpnDevice(t.db, me, { name: "laptop2", publicKey: pair.publicKey, keyOrigin: "browser" });
    expect(again.address).toBe(`${net}.2`);

    const audit = await searchAudit(t.db, { action: "vpn.device", actor: me.user!.email });
    expect(audit.data.map((a) => a.action).sort()).toEqual(["vpn.device.create", "vpn.device.create", "vpn.device.create", "vpn.device.revoke"]);
    const revokeRow = audit.data.find((a) => a.action === "vpn.device.revoke")!;
    expect(revokeRow).toMatchObject({ targetType: "vpn_device", targetId: created.id });
    expect(revokeRow.summary).toContain(`laptop (${net}.2)`);
  });

  it("a server-made key pair: the private key is in the answer once, never stored, never served again", async () => {
    withVpn();
    const me = await person();
    const created = await createVpnDevice(t.db, me, { name: "desktop", generate: "server" });
    expect(created.keyOrigin).toBe("server");
    expect(created.privateKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(publicKeyOf(created.privateKey!)).toBe(created.publicKey);
    expect(created.config).toContain(`PrivateKey = ${created.privateKey}`);

    const later = await getMyVpnDeviceConfig(t.db, me, created.id);
    expect(later.text).not.toContain(created.privateKey!);
    expect(later.text).toContain(`PrivateKey = ${PRIVATE_KEY_PLACEHOLDER}`);
    expect((await listMyVpnDevices(t.db, me)).data[0]).not.toHaveProperty("privateKey");

    for (const table of ["vpn_devices", "audit_log"] as const) {
      const rows = await listRowsAsJson(t.db, table);
      expect(rows.some((r) => r.includes(created.publicKey))).toBe(true);
      expect(rows.some((r) => r.includes(created.privateKey!))).toBe(false);
    }
  });

  it("two devices made at the same moment get different addresses", async () => {
    const net = withVpn();
    const people = await Promise.all(Array.from({ length: 6 }, () => person()));
    const made = await Promise.all(people.map((p, i) => createVpnDevice(t.db, p, { name: `d${i}`, generate: "server" })));
    const addresses = made.map((d) => d.address).sort((a, b) => Number(a.split(".")[3]) - Number(b.split(".")[3]));
    expect(addresses).toEqual([2, 3, 4, 5, 6, 7].map((n) => `${net}.${n}`));
  });

  it("refuses a bad public key with a sentence saying why, and one another device uses", async () => {
    withVpn();
    const me = await person();
    for (const publicKey of ["", "not a key", "AAAA", `${"A".repeat(43)}=`, generateKeyPair().publicKey + "x"]) {
      const err = await expectAppError(createVpnDevice(t.db, me, { name: "bad", publicKey }), "validation");
      expect(err.details?.fieldErrors?.publicKey?.[0]).toMatch(/key/);
    }
    const allZero = await expectAppError(createVpnDevice(t.db, me, { name: "bad", publicKey: `${"A".repeat(43)}=` }), "validation");
    expect(allZero.message).toMatch(/all zeros/);
    const malformed = await expectAppError(createVpnDevice(t.db, me, { name: "bad", publicKey: "AAAA" }), "validation");
    expect(malformed.message).toMatch(/44 characters of base64/);

    await expectAppError(createVpnDevice(t.db, me, { name: "bad name!", generate: "server" }), "validation", /letters, digits/);
    await expectAppError(createVpnDevice(t.db, me, { name: "way-too-long-name", generate: "server" }), "validation", /15 characters/);
    await expectAppError(createVpnDevice(t.db, me, { name: "both", generate: "server", publicKey: generateKeyPair().publicKey }), "validation", /not both/);
    await expectAppError(createVpnDevice(t.db, me, { name: "neither" }), "validation", /public key/);

    const key = generateKeyPair().publicKey;
    await createVpnDevice(t.db, me, { name: "first", publicKey: key });
    await expectAppError(createVpnDevice(t.db, me, { name: "second", publicKey: key }), "validation", "Your device first already uses this public key. Each device needs its own key pair.");
    await expectAppError(createVpnDevice(t.db, await person(), { name: "theirs", publicKey: key }), "validation", /Another device already uses this public key/);
    expect((await listMyVpnDevices(t.db, me)).data).toHaveLength(1);
  });

  it("a person may have at most the device limit; revoking one makes room", async () => {
    withVpn();
    const me = await person();
    const made = [];
    for (let i = 0; i < MAX_VPN_DEVICES_PER_USER; i++) made.push(await createVpnDevice(t.db, me, { name: `dev${i}`, publicKey: generateKeyPair().publicKey }));
    await expectAppError(createVpnDevice(t.db, me, { name: "one-more", generate: "server" }), "quota_exceeded", /already have 10 devices.*Revoke one/);
    await revokeVpnDevice(t.db, me, made[0]!.id, "own");
    expect((await createVpnDevice(t.db, me, { name: "one-more", generate: "server" })).address).toBe(made[0]!.address);
  });

  it("a full address range is a 409 saying what to do", async () => {
    setTestEnv({ ...VPN, KILN_VPN_ADDRESS_RANGE: "10.99.7.0/29" }); // .2 … .6: five devices
    const me = await person();
    for (let i = 0; i < 5; i++) await createVpnDevice(t.db, me, { name: `d${i}`, generate: "server" });
    await expectAppError(createVpnDevice(t.db, await person(), { name: "late", generate: "server" }), "conflict", RANGE_FULL_MESSAGE);
  });

  it("a range that cannot hold devices is the administrator's 503, not a crash", async () => {
    const me = await person();
    for (const range of ["10.99.8.0/31", "not a range"]) {
      setTestEnv({ ...VPN, KILN_VPN_ADDRESS_RANGE: range });
      await expectAppError(createVpnDevice(t.db, me, { name: "laptop", generate: "server" }), "unavailable", /address range is misconfigured/);
    }
  });

  it("only active accounts, and only when WireGuard is configured", async () => {
    withVpn();
    const me = await person();
    const device = await createVpnDevice(t.db, me, { name: "laptop", generate: "server" });

    await updateUser(t.db, me.user!.id, { disabledAt: new Date() });
    const disabled = actorOf({ ...me.user!, disabledAt: new Date() }, null);
    await expectAppError(listMyVpnDevices(t.db, disabled), "forbidden", "Lab access is for active accounts only.");
    await expectAppError(createVpnDevice(t.db, disabled, { name: "more", generate: "server" }), "forbidden");
    await expectAppError(getMyVpnDeviceConfig(t.db, disabled, device.id), "forbidden");

    const { user: pending } = await createActiveUser(t.db);
    const pendingActor = actorOf({ ...pending, approvedAt: null }, null);
    await expectAppError(createVpnDevice(t.db, pendingActor, { name: "laptop", generate: "server" }), "forbidden");
    const unverified = actorOf({ ...pending, emailVerifiedAt: null }, null);
    await expectAppError(listMyVpnDevices(t.db, unverified), "forbidden");
    await expectAppError(listMyVpnDevices(t.db, actorOf(null, null)), "unauthorized");

    setTestEnv({});
    const active = await person();
    await expectAppError(listMyVpnDevices(t.db, active), "not_found", VPN_DISABLED_MESSAGE);
    await expectAppError(createVpnDevice(t.db, active, { name: "laptop", generate: "server" }), "not_found", VPN_DISABLED_MESSAGE);
  });

  it("an administrator lists every active device with its owner and revokes anyone's", async () => {
    withVpn();
    const admin = await person(true);
    const me = await person();
    const mine = await createVpnDevice(t.db, me, { name: "laptop", generate: "server" });
    await expectAppError(listAllVpnDevices(t.db, me), "forbidden");
    await expectAppError(revokeVpnDevice(t.db, me, mine.id, "any"), "forbidden");

    const all = await listAllVpnDevices(t.db, admin);
    expect(all.data.find((d) => d.id === mine.id)).toMatchObject({ userId: me.user!.id, ownerEmail: me.user!.email, address: mine.address });

    // The /me route finds only the caller's own devices, even for an administrator.
    await expectAppError(revokeVpnDevice(t.db, admin, mine.id, "own"), "not_found");
    await revokeVpnDevice(t.db, admin, mine.id, "any");
    expect((await listMyVpnDevices(t.db, me)).data).toEqual([]);
    expect((await listAllVpnDevices(t.db, admin)).data.find((d) => d.id === mine.id)).toBeUndefined();
    const audit = await searchAudit(t.db, { action: "vpn.device.revoke", actor: admin.user!.email });
    expect(audit.data[0]).toMatchObject({ targetId: mine.id, summary: expect.stringContaining("of another user") });
  });
});
