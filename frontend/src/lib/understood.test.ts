import { describe, expect, it } from "vitest";
import { alertScope, correctionOptions, formatWithZone, minutesFrom, zoneName } from "./understood";

describe("understood alerts", () => {
  it("sends only the corrections made", () => {
    expect(correctionOptions({})).toEqual({});
    expect(correctionOptions({ services: [" checkout ", ""], namespace: " shop " })).toEqual({ services: ["checkout"], namespace: "shop" });
    expect(correctionOptions({ starts_at: "2023-01-29T10:05:00Z" })).toEqual({ starts_at: "2023-01-29T10:05:00Z" });
  });
  it("names zones and shows times with date and zone", () => {
    expect(zoneName(480)).toBe("UTC+08:00");
    expect(zoneName(-330)).toBe("UTC-05:30");
    const s = formatWithZone("2023-01-29T10:05:00Z");
    expect(s).toContain("2023-01-29");
    expect(s).toMatch(/UTC/);
    expect(formatWithZone(null)).toBe("—");
  });
  it("counts minutes from the alert", () => {
    expect(minutesFrom("2023-01-29T10:05:00Z", "2023-01-29T09:58:00Z")).toBe(-7);
    expect(minutesFrom(null, "2023-01-29T09:58:00Z")).toBeNull();
  });
  it("reads the scope of a stored alert", () => {
    expect(alertScope({ starts_at: "x", scope: { services: ["a"], pods: ["p"], instances: ["i:1"], hosts: ["p"], namespace: "ns" } })).toEqual({
      startsAt: "x",
      services: ["a"],
      namespace: "ns",
      instances: ["p", "i:1"],
    });
    expect(alertScope(null)).toEqual({ startsAt: null, services: [], namespace: null, instances: [] });
  });
});
