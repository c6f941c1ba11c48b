import { describe, expect, it } from "vitest";
import type { UserRow } from "@/db/schema";
import { AppError } from "../errors";
import { actorOf, assertAdmin, isAdmin, isAdminUser, isOwnerOrAdmin, SYSTEM, type Actor } from "./actor";

// Only the fields the checks read; a full row would tie this test to the users schema.
const person = (id: string, role: "user" | "admin") => ({ id, role }) as UserRow;
const admin = actorOf(person("a", "admin"), { ip: "10.0.0.1", userAgent: null });
const researcher = actorOf(person("r", "user"), null);
const anonymous: Actor = { user: null, ip: null };

describe("the admin check", () => {
  it("lets administrators and the system through, and no one else", () => {
    expect([admin, SYSTEM, researcher, anonymous].map(isAdmin)).toEqual([true, true, false, false]);
    expect([person("a", "admin"), person("r", "user"), null].map(isAdminUser)).toEqual([true, false, false]);
  });

  it("refuses with 403 and the caller's message, else hands back the same actor", () => {
    expect(assertAdmin(admin)).toBe(admin);
    expect(() => assertAdmin(researcher, "Only administrators can change pools.")).toThrow(
      expect.objectContaining({ code: "forbidden", message: "Only administrators can change pools." }),
    );
    expect(() => assertAdmin(anonymous)).toThrow(new AppError("forbidden", "Only administrators can do this."));
  });
});

describe("isOwnerOrAdmin", () => {
  it("is the owner or an administrator; an ownerless thing is the administrators' alone", () => {
    expect(isOwnerOrAdmin(researcher, "r")).toBe(true);
    expect(isOwnerOrAdmin(researcher, "someone-else")).toBe(false);
    expect(isOwnerOrAdmin(researcher, null)).toBe(false);
    expect(isOwnerOrAdmin(anonymous, "r")).toBe(false);
    expect(isOwnerOrAdmin(admin, "someone-else")).toBe(true);
    expect(isOwnerOrAdmin(SYSTEM, null)).toBe(true);
  });
});
