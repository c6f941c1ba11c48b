// The ICS address as a calendar client calls it: no session, the token in the path; text/calendar
// that no shared cache keeps; the same 404 (the one error body) for anything that is not a live feed.
import { callRoute } from "@/test/harness/route-handler";
import { describe, expect, it } from "vitest";
import { createCalendarFeed, revokeCalendarFeed } from "@/lib/calendar/feeds";
import { useTestDb } from "@/test/harness/database";
import { as, seedLeaseWorld } from "@/test/harness/inventory";
import * as route from "./route";

const t = await useTestDb();

function get(file: string) {
  return callRoute<string>(route.GET, "GET", `/calendar/${file}`, { params: { file } });
}

describe("GET /calendar/<token>.ics", () => {
  it("answers the feed without a session, and 404 once it is revoked or without .ics", async () => {
    const w = await seedLeaseWorld(t.db, { hosts: 1 });
    const ann = as(w.members[0]![0]!);
    const feed = await createCalendarFeed(t.db, ann, { poolId: w.pool.id });
    const token = feed.url.split("/").pop()!.replace(/\.ics$/, "");

    const res = await get(`${token}.ics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/calendar; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    expect(res.body).toMatch(/^BEGIN:VCALENDAR\r\n/);
    expect(res.body).toContain(`X-WR-CALNAME:Kiln: pool ${w.pool.name}`);

    for (const file of [token, `${token}.ics.txt`, "kiln_cal_unknown.ics", ".ics"]) {
      const refused = await callRoute<{ error: { code: string; message: string } }>(route.GET, "GET", `/calendar/${file}`, { params: { file } });
      expect(refused.status, file).toBe(404);
      expect(refused.body.error.message).toBe("This calendar feed does not exist or was revoked.");
    }
    await revokeCalendarFeed(t.db, ann, feed.id);
    expect((await get(`${token}.ics`)).status).toBe(404);
  });
});
