import { describe, expect, it } from "vitest";
import { elapsedMs, formatCompact, formatCount, formatDateTime, formatDuration, formatPercent, humanNumber, oneLine } from "./format";

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

describe("humanNumber: as oncall-core's human_number writes numbers in sentences", () => {
  // The same cases as the Rust unit test (analysis/reduce.rs), and the rule's edges.
  it.each([
    [6_291_456, "6.29M"],
    [0.0512, "0.0512"],
    [16.342, "16.3"],
    [0, "0"],
    [-2.5e10, "-25.0G"],
    [105_230_000, "105M"],
    [1234, "1234"],
    [9999.4, "9999"],
    [10_000, "10.0k"],
    [15_234, "15.2k"],
    [999_999, "1000k"],
    [1e6, "1.00M"],
    [2.5e12, "2.50T"],
    [41, "41.0"],
    [2.5, "2.50"],
    [0.5, "0.500"],
    [0.2956, "0.296"],
    [0.001814, "0.00181"],
    [1.23e-9, "0.00000000"],
    [-0.75, "-0.750"],
  ])("%d → %s", (v, s) => expect(humanNumber(v)).toBe(s));
  it("rounds an exact tie to the even digit, as Rust's formatting does", () => {
    expect(humanNumber(100.5)).toBe("100");
    expect(humanNumber(101.5)).toBe("102");
    expect(humanNumber(12.25)).toBe("12.2");
    expect(humanNumber(12.75)).toBe("12.8");
    expect(humanNumber(0.125)).toBe("0.125");
    expect(humanNumber(-2.5e6)).toBe("-2.50M");
    // Not a tie in binary: 1.005 is 1.00499999…
    expect(humanNumber(1.005)).toBe("1.00");
  });
  it("says what Rust says for what is not a number", () => {
    expect(humanNumber(Number.NaN)).toBe("NaN");
    expect(humanNumber(Number.POSITIVE_INFINITY)).toBe("inf");
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
