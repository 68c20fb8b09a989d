import { describe, expect, it } from "vitest";
import type { AlertQueryView } from "../api/types";
import { alertSeriesName, pagedFacts, pagedSeries } from "./alertQuery";

describe("what paged", () => {
  const q: AlertQueryView = {
    expr: 'sum(rate(node_disk_written_bytes_total{instance="node-3:9100"}[1m])) by (instance) > 50000000',
    query: 'sum(rate(node_disk_written_bytes_total{instance="node-3:9100"}[1m])) by (instance)',
    threshold: { op: ">", value: 50_000_000 },
    source: "prometheus",
    series: [
      {
        labels: { instance: "node-3:9100" },
        baseline: 1_502_000,
        peak: 105_230_000,
        breached_at: "2026-01-01T08:44:00Z",
        points: [
          { at: "2026-01-01T08:45:00Z", value: 2 },
          { at: "2026-01-01T08:44:00Z", value: 1 },
        ],
      },
      { labels: {}, points: [] },
    ],
  };
  it("numbers as the headline writes them", () => {
    expect(pagedFacts(q)).toEqual({ who: "node-3:9100", peak: "105M", threshold: "> 50.0M", baseline: "1.50M", breachedAt: "2026-01-01T08:44:00Z" });
    const bare = pagedFacts({ ...q, threshold: undefined, series: [{ labels: {}, points: [] }] });
    expect(bare).toEqual({ who: null, peak: null, threshold: null, baseline: null, breachedAt: null });
  });
  it("series named by component, else by labels, else the query; points in time order", () => {
    const s = pagedSeries(q, 5);
    expect(s.map((x) => x.name)).toEqual(["node-3:9100", q.query]);
    expect(s[0]!.points).toEqual([
      [Date.parse("2026-01-01T08:44:00Z") / 1000, 1],
      [Date.parse("2026-01-01T08:45:00Z") / 1000, 2],
    ]);
    expect(alertSeriesName({ le: "0.5", job: "x" }, "q")).toBe("le=0.5, job=x");
    expect(pagedSeries(q, 1)).toHaveLength(1);
  });
});
