import { describe, expect, it } from "vitest";
import { elapsedMs, formatCompact, formatCount, formatDateTime, formatDuration, formatPercent, oneLine } from "./format";

describe("formatDuration", () => {
  it.each([
    [0, "0 ms"],
    [850, "850 ms"],
    [1234, "1.2 s"],
    [42_000, "42 s"],
    [60_000, "1 min"],
    [125_000, "2 min 5 s"],
    [7_384_000, "2 h 3 min"],
    [3_600_000, "1 h"],
  ])("%d ms → %s", (ms, s) => expect(formatDuration(ms)).toBe(s));
  it("shows a dash for nothing", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(-1)).toBe("—");
    expect(formatDuration(Number.NaN)).toBe("—");
  });
});

describe("numbers", () => {
  it("percent from a ratio (or a percentage), clamped", () => {
    expect(formatPercent(0.823)).toBe("82%");
    expect(formatPercent(1)).toBe("100%");
    expect(formatPercent(82)).toBe("82%");
    expect(formatPercent(140)).toBe("100%");
    expect(formatPercent(null)).toBe("—");
  });
  it("counts and compact axis labels", () => {
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatCompact(1520)).toBe("1.52k");
    expect(formatCompact(2_500_000)).toBe("2.5M");
    expect(formatCompact(0.5)).toBe("0.5");
    expect(formatCompact(0.00042)).toBe("0.00042");
    expect(formatCompact(0)).toBe("0");
  });
});

describe("times", () => {
  it("elapsed between two instants", () => {
    expect(elapsedMs("2026-01-01T00:00:00Z", "2026-01-01T00:00:01.5Z")).toBe(1500);
    expect(elapsedMs("2026-01-01T00:00:01Z", "2026-01-01T00:00:00Z")).toBeNull();
    expect(elapsedMs("2026-01-01T00:00:00Z", null)).toBeNull();
  });
  it("formats in local time and passes through what it cannot read", () => {
    const d = new Date(2026, 0, 2, 3, 4, 5); // local
    expect(formatDateTime(d.toISOString())).toBe("2026-01-02 03:04:05");
    expect(formatDateTime("garbage")).toBe("garbage");
    expect(formatDateTime(undefined)).toBe("—");
  });
  it("one line", () => {
    expect(oneLine("\n  first line  \nsecond")).toBe("first line");
    expect(oneLine("x".repeat(200), 10)).toBe(`${"x".repeat(9)}…`);
  });
});
