import { describe, expect, it } from "vitest";
import { parseEnv } from "../env";
import { directoryConfigFromEnv, parseIdRange } from "./config";
import { desiredDirectoryState } from "./mark";

describe("directory config", () => {
  it("is null without KILN_DIRECTORY_URL, and parsed with it", () => {
    expect(directoryConfigFromEnv(parseEnv({}))).toBeNull();
    const config = directoryConfigFromEnv(
      parseEnv({
        KILN_DIRECTORY_URL: "ldap://127.0.0.1:389",
        KILN_DIRECTORY_BIND_DN: "cn=kiln,dc=lab",
        KILN_DIRECTORY_BIND_PASSWORD: "pw",
        KILN_DIRECTORY_PEOPLE_DN: "ou=people,dc=lab",
        KILN_DIRECTORY_OBJECT_CLASSES: "inetOrgPerson, posixAccount ,shadowAccount",
        KILN_DIRECTORY_UID_RANGE: "5000-5999",
      }),
    );
    expect(config).toMatchObject({
      url: "ldap://127.0.0.1:389",
      peopleDn: "ou=people,dc=lab",
      objectClasses: ["inetOrgPerson", "posixAccount", "shadowAccount"],
      uidRange: { first: 5000, last: 5999 },
      gidRange: { first: 20000, last: 29999 },
      passwordScheme: "crypt-sha512",
      homeTemplate: "/home/{uid}",
      shell: "/bin/bash",
    });
  });

  it("refuses a range whose first number is above its last, naming the variable", () => {
    expect(() => parseIdRange("30-20", "KILN_DIRECTORY_UID_RANGE")).toThrow(/KILN_DIRECTORY_UID_RANGE/);
  });
});

describe("desired directory state", () => {
  const now = new Date();
  const local = { authSource: "local" as const, disabledAt: null, emailVerifiedAt: now, approvedAt: now };
  it("follows the account: active → present, disabled → disabled, deleted → absent, pending → none", () => {
    expect(desiredDirectoryState(local)).toBe("present");
    expect(desiredDirectoryState({ ...local, disabledAt: now })).toBe("disabled");
    expect(desiredDirectoryState(local, true)).toBe("absent");
    // A tombstone (deleted, kept for its history) has no entry, whatever else it says.
    expect(desiredDirectoryState({ ...local, disabledAt: now, deletedAt: now })).toBe("absent");
    expect(desiredDirectoryState({ ...local, emailVerifiedAt: null })).toBeNull();
    expect(desiredDirectoryState({ ...local, approvedAt: null })).toBeNull();
  });
  it("never gives LDAP accounts an entry of Kiln's", () => {
    expect(desiredDirectoryState({ ...local, authSource: "ldap" })).toBeNull();
    expect(desiredDirectoryState({ ...local, authSource: "ldap" }, true)).toBeNull();
  });
});
