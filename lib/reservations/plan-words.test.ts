import { describe, expect, it } from "vitest";
import { describeReadyPlan } from "./plan-words";

const hhmm = (iso: string) => iso.slice(11, 16);

describe("describeReadyPlan", () => {
  it("says when the hosts are taken, how long before the start, and the measured basis", () => {
    const plan = { leadSeconds: 39 * 60, basis: "measured: p90 of 12 finished runs of this image version on these hosts (28 min), + 20% + 5 min" };
    expect(describeReadyPlan({ startsAt: "2026-12-08T09:00:00.000Z", prepareFrom: "2026-12-08T08:21:00.000Z", plan }, hhmm)).toBe(
      "Hosts taken at 08:21, 39 min before the start: p90 of 12 finished runs of this image version on these hosts (28 min) + a margin of 20% and 5 min",
    );
  });

  it("names the default lead, and a lead cut short by a late booking", () => {
    const plan = { leadSeconds: 30 * 60, basis: "default: no finished run of this image to measure" };
    expect(describeReadyPlan({ startsAt: "2026-12-08T09:00:00.000Z", prepareFrom: "2026-12-08T08:30:00.000Z", plan }, hhmm)).toBe(
      "Hosts taken at 08:30, 30 min before the start: the default lead: no finished run of this image to measure",
    );
    expect(describeReadyPlan({ startsAt: "2026-12-08T09:00:00.000Z", prepareFrom: "2026-12-08T08:40:00.000Z", plan }, hhmm)).toBe(
      "Hosts taken at 08:40, 20 min before the start, when it was booked: the planned 30 min (the default lead: no finished run of this image to measure) did not fit",
    );
    expect(describeReadyPlan({ startsAt: "2026-12-08T12:00:00.000Z", prepareFrom: "2026-12-08T09:30:00.000Z", plan: { leadSeconds: 9000, basis: "x" } }, hhmm)).toBe("Hosts taken at 09:30, 2 h 30 min before the start: x");
  });
});
