import { describe, expect, it } from "vitest";
import { escapeLdapFilterValue } from "./ldap";

describe("escapeLdapFilterValue (RFC 4515)", () => {
  it("leaves ordinary logins alone", () => {
    expect(escapeLdapFilterValue("alice")).toBe("alice");
    expect(escapeLdapFilterValue("alice.o'brien@lab.example")).toBe("alice.o'brien@lab.example");
  });

  it("escapes the filter metacharacters * ( ) \\ and NUL as two hex digits", () => {
    expect(escapeLdapFilterValue("*")).toBe("\\2a");
    expect(escapeLdapFilterValue("(")).toBe("\\28");
    expect(escapeLdapFilterValue(")")).toBe("\\29");
    expect(escapeLdapFilterValue("\\")).toBe("\\5c");
    expect(escapeLdapFilterValue("\0")).toBe("\\00");
  });

  it("neutralises filter injection", () => {
    expect(escapeLdapFilterValue("*)(uid=*))(|(uid=*")).toBe("\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a");
    expect(escapeLdapFilterValue("ali*")).toBe("ali\\2a");
  });

  it("escapes a backslash before it could combine with what follows", () => {
    expect(escapeLdapFilterValue("a\\2a")).toBe("a\\5c2a");
  });

  it("keeps non-ASCII characters (the server compares them as UTF-8)", () => {
    expect(escapeLdapFilterValue("jürgen")).toBe("jürgen");
  });
});
