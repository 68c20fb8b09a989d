import { describe, expect, it } from "vitest";
import { formatShare, monthsRange, suspectNames } from "./accuracy";

describe("accuracy helpers", () => {
  it("keeps the suspects' ranked names once each", () => {
    const s = (component: string) => ({ component, kind: "service", score: 0.5, reasons: [] });
    expect(suspectNames([s("ts-order-service"), s(" "), s("mysql"), s("ts-order-service")])).toEqual(["ts-order-service", "mysql"]);
    expect(suspectNames(undefined)).toEqual([]);
  });
  it("shows shares as whole percentages", () => {
    expect(formatShare(0.666)).toBe("67%");
    expect(formatShare(1)).toBe("100%");
    expect(formatShare(undefined)).toBe("—");
  });
  it("starts a range of months on the first of the month (UTC)", () => {
    const now = new Date(Date.UTC(2026, 11, 7, 15, 0, 0));
    expect(monthsRange(3, now)).toEqual({ since: "2026-10-01T00:00:00.000Z" });
    expect(monthsRange(12, now)).toEqual({ since: "2026-01-01T00:00:00.000Z" });
    expect(monthsRange(null, now)).toEqual({});
  });
});
