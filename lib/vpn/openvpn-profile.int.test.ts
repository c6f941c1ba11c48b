import { randomInt } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { directoryEntries } from "@/db/schema";
import { updateUser } from "@/db/queries/users";
import { createActiveUser, expectAppError, uniqueEmail } from "@/test/harness/fixtures";
import { useTestDb } from "@/test/harness/database";
import { setTestEnv } from "@/test/harness/env";
import { actorOf } from "../access/actor";
import { getMyOpenVpnProfile, OPENVPN_DISABLED_MESSAGE } from "./openvpn-profile";

const t = await useTestDb();
const dir = await mkdtemp(path.join(os.tmpdir(), "kiln-openvpn-"));
const CA = path.join(dir, "ca.pem");
await writeFile(CA, "-----BEGIN CERTIFICATE-----\nMIIBfakeCertificateBytes==\n-----END CERTIFICATE-----\n");
const ON = { KILN_OPENVPN_REMOTE: "vpn.lab.example 1194 udp", KILN_OPENVPN_CA_FILE: CA };

describe("OpenVPN profile", () => {
  it("names the person's directory uid, else their LDAP name, else their email's local part", async () => {
    setTestEnv(ON);
    const { user: withEntry } = await createActiveUser(t.db, { email: uniqueEmail("grace") });
    const uid = `ghopper${randomInt(1e6)}`;
    await t.db.insert(directoryEntries).values({ userId: withEntry.id, uid, dn: `uid=${uid},ou=people,dc=lab,dc=example`, uidNumber: 20000 + randomInt(9000), gidNumber: 20000 });
    const profile = await getMyOpenVpnProfile(t.db, actorOf(withEntry, null));
    expect(profile.filename).toBe("kiln.ovpn");
    expect(profile.text).toContain(`username ${uid} `);
    expect(profile.text).toContain("remote vpn.lab.example 1194");
    expect(profile.text).toContain("auth-user-pass");
    expect(profile.text).toContain("MIIBfakeCertificateBytes==");

    const { user: ldap } = await createActiveUser(t.db);
    await updateUser(t.db, ldap.id, { ldapUsername: "adalove" });
    expect((await getMyOpenVpnProfile(t.db, actorOf({ ...ldap, ldapUsername: "adalove" }, null))).text).toContain("username adalove ");

    const email = uniqueEmail("alan.turing");
    const { user: plain } = await createActiveUser(t.db, { email });
    expect((await getMyOpenVpnProfile(t.db, actorOf(plain, null))).text).toContain(`username ${email.split("@")[0]} `);
  });

  it("is 404 when OpenVPN is not configured, 503 when its CA is missing, and only for active accounts", async () => {
    const { user } = await createActiveUser(t.db);
    setTestEnv({});
    await expectAppError(getMyOpenVpnProfile(t.db, actorOf(user, null)), "not_found", OPENVPN_DISABLED_MESSAGE);
    setTestEnv({ KILN_OPENVPN_REMOTE: ON.KILN_OPENVPN_REMOTE });
    await expectAppError(getMyOpenVpnProfile(t.db, actorOf(user, null)), "unavailable", /settings are incomplete/);
    setTestEnv({ ...ON, KILN_OPENVPN_CA_FILE: path.join(dir, "missing.pem") });
    await expectAppError(getMyOpenVpnProfile(t.db, actorOf(user, null)), "unavailable");
    setTestEnv({ ...ON, KILN_OPENVPN_REMOTE: "not a remote at all" });
    await expectAppError(getMyOpenVpnProfile(t.db, actorOf(user, null)), "unavailable");
    setTestEnv(ON);
    await expectAppError(getMyOpenVpnProfile(t.db, actorOf({ ...user, disabledAt: new Date() }, null)), "forbidden");
    await expectAppError(getMyOpenVpnProfile(t.db, actorOf({ ...user, approvedAt: null }, null)), "forbidden");
    await expectAppError(getMyOpenVpnProfile(t.db, actorOf(null, null)), "unauthorized");
  });
});
