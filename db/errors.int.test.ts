// The PostgreSQL errors bad input can still cause, raised by a real server, become one plain
// 400 (lib/errors.ts asAppError, used by the route wrapper); anything else stays a 500.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { asAppError, toErrorBody } from "@/lib/errors";
import { useTestDb } from "@/test/harness/database";

const t = await useTestDb();

async function pgError(query: ReturnType<typeof sql>): Promise<unknown> {
  return t.db.execute(query).then(
    () => {
      throw new Error("expected the query to fail");
    },
    (e: unknown) => e,
  );
}

describe("PostgreSQL input errors", () => {
  const cases: [string, ReturnType<typeof sql>, RegExp][] = [
    ["22P02 invalid text representation", sql`select 'not-a-uuid'::uuid`, /not in the form expected/],
    ["22003 numeric out of range", sql`select 99999999999::int4`, /number in the request is out of range/],
    ["22008 datetime out of range", sql`select '294277-01-01'::timestamptz`, /date or time in the request is out of range/],
    ["22021 character not in repertoire", sql`select convert_from('\\x00'::bytea, 'UTF8')`, /not valid UTF-8 or contains a NUL/],
    ["a NUL in a bound parameter", sql`select ${"a\u0000b"}::text`, /NUL/],
    ["23503 foreign key violation", sql`insert into project_members (project_id, user_id, role) values (gen_random_uuid(), gen_random_uuid(), 'member')`, /refers to something that does not exist/],
    ["54001 stack depth (a JSON document nested deeper than the server's stack)", sql`select repeat('[', 100000)::jsonb`, /too deeply nested/],
  ];

  for (const [name, query, message] of cases) {
    it(`maps ${name} to a 400 with a plain message`, async () => {
      const e = await pgError(query);
      const app = asAppError(e);
      expect(app, JSON.stringify((e as { cause?: { code?: string } }).cause?.code)).not.toBeNull();
      const { status, body } = toErrorBody(e);
      expect(status).toBe(400);
      expect(body.error.code).toBe("bad_request");
      expect(body.error.message).toMatch(message);
      // The driver's own words (which can quote the value or name tables) are not shown.
      expect(body.error.message).not.toMatch(/relation|constraint|syntax|uuid:/i);
    });
  }

  it("leaves other database errors as the generic 500", async () => {
    const e = await pgError(sql`select * from no_such_table`);
    expect(asAppError(e)).toBeNull();
    expect(toErrorBody(e).status).toBe(500);
  });
});
