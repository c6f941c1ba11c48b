import { describe, expect, it } from "vitest";
import { addWeeks, fromLocalInput, parseWeekParam, placeInWeek, slotAt, slotStart, toLocalInput, weekParam, weekStartOf } from "./week";

describe("week view arithmetic", () => {
  it("starts weeks on Monday 00:00 local time", () => {
    const sunday = new Date(2026, 11, 6, 23, 59);
    expect(weekStartOf(sunday)).toEqual(new Date(2026, 10, 30));
    expect(weekStartOf(new Date(2026, 10, 30, 0, 0))).toEqual(new Date(2026, 10, 30));
    expect(addWeeks(new Date(2026, 10, 30), 1)).toEqual(new Date(2026, 11, 7));
  });

  it("maps a pointer to whole-hour slots and slots to times", () => {
    expect(slotAt(0, 168)).toBe(0);
    expect(slotAt(167.9, 168)).toBe(167);
    expect(slotAt(500, 168)).toBe(167);
    expect(slotAt(-3, 168)).toBe(0);
    expect(slotStart(new Date(2026, 10, 30), 24 + 9)).toEqual(new Date(2026, 11, 1, 9));
  });

  it("places an interval in the week, clipped, or not at all", () => {
    const week = new Date(2026, 10, 30);
    expect(placeInWeek(week, new Date(2026, 10, 30, 0), new Date(2026, 10, 30, 12))).toEqual({ left: 0, width: (12 / 168) * 100 });
    expect(placeInWeek(week, new Date(2026, 10, 20), new Date(2026, 10, 29))).toBeNull();
    expect(placeInWeek(week, new Date(2026, 10, 20), new Date(2026, 11, 20))).toEqual({ left: 0, width: 100 });
  });

  it("round-trips datetime-local values", () => {
    const d = new Date(2026, 11, 8, 9, 30);
    expect(toLocalInput(d)).toBe("2026-12-08T09:30");
    expect(fromLocalInput("2026-12-08T09:30")).toEqual(d);
    expect(fromLocalInput("")).toBeNull();
    expect(fromLocalInput("nonsense")).toBeNull();
  });

  it("keeps the week in ?week=YYYY-MM-DD, any day of it leading to its Monday", () => {
    expect(weekParam(new Date(2026, 10, 30))).toBe("2026-11-30");
    expect(parseWeekParam("2026-12-03")).toEqual(new Date(2026, 10, 30));
    expect(parseWeekParam(undefined)).toBeNull();
    expect(parseWeekParam("2026-13-40x")).toBeNull();
    expect(parseWeekParam("0000-01-01")).toBeNull();
  });
});
