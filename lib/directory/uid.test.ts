import { describe, expect, it } from "vitest";
import { baseUidFromEmail, escapeDnValue, pickUniqueUid } from "./uid";

describe("directory uids", () => {
  it("takes the email's local part, lower-cased and reduced to [a-z0-9._-]", () => {
    expect(baseUidFromEmail("Alice@lab.example")).toBe("alice");
    expect(baseUidFromEmail("anna.müller@lab.example")).toBe("anna.mller");
    expect(baseUidFromEmail("bob+kiln@lab.example")).toBe("bob");
    expect(baseUidFromEmail("o'brien_x@lab.example")).toBe("obrien_x");
  });

  it("starts with a letter and is never empty", () => {
    expect(baseUidFromEmail("42jane@lab.example")).toBe("jane");
    expect(baseUidFromEmail("-._@lab.example")).toBe("user");
    expect(baseUidFromEmail("ñ@lab.example")).toBe("user");
  });

  it("is at most 28 characters, leaving room for a suffix", () => {
    const uid = baseUidFromEmail(`${"a".repeat(60)}@lab.example`);
    expect(uid).toHaveLength(28);
  });

  it("adds the first free number when the uid is taken", () => {
    expect(pickUniqueUid("alice", [])).toBe("alice");
    expect(pickUniqueUid("alice", ["alice"])).toBe("alice2");
    expect(pickUniqueUid("alice", ["alice", "alice2", "alice3"])).toBe("alice4");
    expect(pickUniqueUid("alice", ["alice2"])).toBe("alice");
  });

  it("escapes DN specials", () => {
    expect(escapeDnValue("a,b")).toBe("a\\,b");
    expect(escapeDnValue("plain.name-1")).toBe("plain.name-1");
  });
});
