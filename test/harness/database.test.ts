import { describe, expect, it } from "vitest";
import { assertLocalDatabaseUrl, databaseUrlFor } from "./database";

describe("assertLocalDatabaseUrl", () => {
  it("accepts servers on this machine", () => {
    for (const url of [
      "postgres://postgres@127.0.0.1:5432/postgres",
      "postgresql://u:p@localhost/kiln",
      "postgres://u:p@[::1]:5433/kiln",
    ]) {
      expect(() => assertLocalDatabaseUrl(url)).not.toThrow();
    }
  });

  it("refuses any other host, naming the variable and the way out", () => {
    expect(() => assertLocalDatabaseUrl("postgres://u:p@db.internal:5432/kiln")).toThrow(
      /Refusing to run integration tests against DATABASE_URL on host "db\.internal".*Unset DATABASE_URL/,
    );
    expect(() => assertLocalDatabaseUrl("postgres://u:p@10.0.0.5/kiln")).toThrow(/host "10\.0\.0\.5"/);
    expect(() => assertLocalDatabaseUrl("postgres://u:p@127.0.0.1.evil.test/kiln")).toThrow(/Refusing/);
    expect(() => assertLocalDatabaseUrl("postgres:///kiln?host=/var/run/postgresql")).toThrow(/Refusing/);
  });

  it("refuses URLs that are not postgres URLs, without echoing credentials", () => {
    expect(() => assertLocalDatabaseUrl("mysql://root:hunter2@127.0.0.1/kiln")).toThrow(/must be a postgres:\/\/ URL/);
    expect(() => assertLocalDatabaseUrl("not a url with hunter2")).toThrow(/not a valid URL/);
    try {
      assertLocalDatabaseUrl("postgres://root:hunter2@db.internal/kiln");
    } catch (e) {
      expect((e as Error).message).not.toContain("hunter2");
    }
  });
});

describe("databaseUrlFor", () => {
  it("swaps only the database name", () => {
    expect(databaseUrlFor("postgres://u:p%40ss@127.0.0.1:5432/kiln?sslmode=disable", "kiln_test_ab")).toBe(
      "postgres://u:p%40ss@127.0.0.1:5432/kiln_test_ab?sslmode=disable",
    );
  });
});
