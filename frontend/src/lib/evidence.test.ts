import { describe, expect, it } from "vitest";
import { translate } from "../i18n";
import type { CoverageView } from "../api/types";
import {
  coverageNotes,
  findingChange,
  formatMetricValue,
  formatMs,
  graphRows,
  graphValue,
  latencyRows,
  ownLabels,
  seriesLabel,
  sinceAlert,
  sinceText,
  slowdown,
  subjectLabels,
} from "./evidence";

const en = (k: Parameters<typeof translate>[1], v?: Record<string, string | number>) => translate("en", k, v);

describe("rates and appeared series", () => {
  it("writes a counter's rate as rate(selector) and its values per second", () => {
    expect(seriesLabel("node_disk_written_bytes_total", { device: "vda", instance: "h:9100" }, true)).toBe(
      'rate(node_disk_written_bytes_total{device="vda",instance="h:9100"})',
    );
    expect(seriesLabel("node_load1", {}, false)).toBe("node_load1{}");
    expect(formatMetricValue(9.8e7, true)).toBe("98.0M/s");
    expect(formatMetricValue(105_230_000, true)).toBe("105M/s");
    expect(formatMetricValue(0.25, false)).toBe("0.250");
    expect(formatMetricValue(null, true)).toBe("—");
    expect(findingChange({ baseline: 1.5e6, peak: 9.8e7, rate: true })).toBe("1.50M/s → 98.0M/s");
    expect(findingChange({ baseline: 0.2, peak: 0.97, rate: false })).toBe("0.200 → 0.970");
  });
});

describe("since the alert", () => {
  const alert = "2026-01-29T08:44:00Z";
  it("counts whole minutes before or after the alert", () => {
    expect(sinceAlert("2026-01-29T08:41:00Z", alert)).toEqual({ when: "before", minutes: 3 });
    expect(sinceAlert("2026-01-29T08:46:10Z", alert)).toEqual({ when: "after", minutes: 2 });
    expect(sinceAlert("2026-01-29T08:44:20Z", alert)).toEqual({ when: "at" });
    expect(sinceAlert("2026-01-29T08:41:00Z", null)).toBeNull();
    expect(sinceAlert("soon", alert)).toBeNull();
  });
  it("says it in words, or the time when the alert's is unknown", () => {
    expect(sinceText(en, { when: "before", minutes: 3 }, "2026-01-29T08:41:00Z")).toBe("3 min before the alert");
    expect(sinceText(en, { when: "at" }, "2026-01-29T08:41:00Z")).toBe("the alert");
    expect(translate("zh-CN", "analysis.since.after", { n: 2 })).toBe("告警后 2 分钟");
    expect(sinceText(en, null, "2026-01-29T08:41:00Z")).toMatch(/^\d\d:41:00$/);
  });
});

describe("slower requests", () => {
  it("formats milliseconds per request", () => {
    expect(formatMs(0.42)).toBe("0.4 ms");
    expect(formatMs(12)).toBe("12 ms");
    expect(formatMs(840.5)).toBe("841 ms");
    expect(formatMs(1830)).toBe("1.83 s");
    expect(formatMs(-1)).toBe("—");
    expect(slowdown(12, 840)).toBe(70);
    expect(slowdown(0, 840)).toBeNull();
  });
  it("lists every slowed step with the service it points at, in order", () => {
    const rows = latencyRows([
      {
        service: "ts-route-service",
        ochiai: 0.9,
        edges: 3,
        slowed: [
          { caller: "ts-travel-service", callee: "ts-route-service", baseline_ms: 12, incident_ms: 840, z: 31, requests: 57 },
          { caller: "ts-route-service", callee: "ts-route-service", baseline_ms: 3, incident_ms: 90, z: 12, requests: 57 },
        ],
      },
      { service: "ts-order-service", ochiai: 0.2, edges: 5, slowed: [] },
    ]);
    expect(rows.map((r) => [r.service, r.caller, r.callee, r.incidentMs, r.requests])).toEqual([
      ["ts-route-service", "ts-travel-service", "ts-route-service", 840, 57],
      ["ts-route-service", "ts-route-service", "ts-route-service", 90, 57],
    ]);
    expect(new Set(rows.map((r) => r.key)).size).toBe(2);
    expect(latencyRows(undefined)).toEqual([]);
  });
});

describe("coverage notes", () => {
  const w = { baseline_start: "2026-01-29T08:00:00Z", incident_start: "2026-01-29T08:30:00Z", incident_end: "2026-01-29T08:45:00Z" };
  const fmt = (iso: string) => iso.slice(11, 16);
  it("says the span, a late start, and the non-zero counts", () => {
    const notes = coverageNotes(
      {
        first_data_at: "2026-01-29T08:15:00Z",
        last_data_at: "2026-01-29T08:45:00Z",
        series_judged: 850,
        series_without_baseline: 29,
        counters_as_rates: 0,
        duplicate_series: 4,
      },
      w,
      fmt,
    );
    expect(notes.map((n) => en(n.key, n.values))).toEqual([
      "data 08:15–08:45",
      "data began 50% into the baseline",
      "850 series judged",
      "29 without enough baseline",
      "4 duplicates dropped",
    ]);
    expect(notes.filter((n) => n.warn).map((n) => n.key)).toEqual(["analysis.coverage.lateStart"]);
  });
  it("says nothing without coverage, and no late start for data from the beginning", () => {
    expect(coverageNotes(undefined, w, fmt)).toEqual([]);
    const notes = coverageNotes(
      { first_data_at: "2026-01-29T08:00:15Z", last_data_at: "2026-01-29T08:45:00Z", series_judged: 3, series_without_baseline: 5, counters_as_rates: 2, duplicate_series: 0 },
      w,
      fmt,
    );
    expect(notes.map((n) => n.key)).toEqual(["analysis.coverage.span", "analysis.coverage.judged", "analysis.coverage.noBaseline", "analysis.coverage.rates"]);
    expect(notes.find((n) => n.key === "analysis.coverage.noBaseline")!.warn).toBe(true);
    // Every series without a baseline (a short history) is worth a warning too.
    const all = coverageNotes({ series_judged: 879, series_without_baseline: 879, counters_as_rates: 0, duplicate_series: 0 }, w, fmt);
    expect(all.find((n) => n.key === "analysis.coverage.noBaseline")!.warn).toBe(true);
  });
});

describe("coverage: trace lines, a shorter baseline, a window not filled", () => {
  const fmt = (iso: string) => iso.slice(11, 16);
  const c = { series_judged: 40, series_without_baseline: 0, counters_as_rates: 0, duplicate_series: 0 };
  it("says the baseline was asked from earlier than the data began", () => {
    // The analyzer moved the baseline's start to where the data began (14:42).
    const w = { baseline_start: "2026-01-29T14:42:00Z", incident_start: "2026-01-29T14:50:00Z", incident_end: "2026-01-29T15:05:00Z" };
    const notes = coverageNotes(
      { ...c, first_data_at: "2026-01-29T14:42:00Z", last_data_at: "2026-01-29T15:05:00Z", planned_baseline_start: "2026-01-29T14:00:00Z", trace_lines: 2400 },
      w,
      fmt,
      3000,
    );
    expect(notes.map((n) => en(n.key, n.values))).toEqual([
      "data 14:42–15:05",
      "baseline asked from 14:00, data from 14:42 — shorter than asked",
      "2,400 log lines with trace ids",
      "40 series judged",
    ]);
    expect(notes.filter((n) => n.warn).map((n) => n.key)).toEqual(["analysis.coverage.shortBaseline"]);
    expect(translate("zh-CN", notes[1]!.key, notes[1]!.values)).toBe("基线要求从 14:00 开始，数据从 14:42 才有——比要求的短");
  });
  it("says an incident window whose data ends early has not filled, and no trace ids only when there were logs", () => {
    const w = { baseline_start: "2026-01-29T08:00:00Z", incident_start: "2026-01-29T08:30:00Z", incident_end: "2026-01-29T08:45:00Z" };
    const cov = { ...c, first_data_at: "2026-01-29T08:00:00Z", last_data_at: "2026-01-29T08:36:00Z", trace_lines: 0 };
    const notes = coverageNotes(cov, w, fmt, 120);
    expect(notes.map((n) => en(n.key, n.values))).toEqual([
      "data 08:00–08:36",
      "incident window not filled yet: data up to 08:36",
      "no trace ids in the logs",
      "40 series judged",
    ]);
    expect(coverageNotes(cov, w, fmt, 0).map((n) => n.key)).not.toContain("analysis.coverage.noTraceLines");
    // Stored before trace lines were counted: nothing said about them.
    const old: CoverageView = { ...cov };
    delete old.trace_lines;
    expect(coverageNotes(old, w, fmt, 120).map((n) => n.key)).not.toContain("analysis.coverage.noTraceLines");
    // Data up to a minute before the end is a filled window.
    expect(coverageNotes({ ...cov, last_data_at: "2026-01-29T08:44:00Z" }, w, fmt).map((n) => n.key)).not.toContain("analysis.coverage.notFilled");
  });
});

describe("service graph", () => {
  it("reads seconds as milliseconds and a failed share as a percentage", () => {
    expect(graphValue("latency", 0.84)).toBe("840 ms");
    expect(graphValue("network", 0.0004)).toBe("0.4 ms");
    expect(graphValue("network", -0.002)).toBe("−2 ms");
    expect(graphValue("errors", 0.35)).toBe("35%");
    expect(graphValue("errors", 0.0021)).toBe("0.21%");
    expect(graphValue("errors", 0)).toBe("0%");
    expect(graphValue("other", 1234)).toBe("1234");
    expect(graphValue("other", 12345)).toBe("12.3k");
    expect(graphValue("latency", null)).toBe("—");
  });
  it("puts the edges into the service the graph leads to first; on the wire either end counts", () => {
    const rows = graphRows(
      {
        source: "tempo",
        edges: 4,
        anomalous: [
          { client: "a", server: "b", what: "latency", baseline: 0.1, incident: 0.5, z: 50 },
          { client: "x", server: "c", what: "network", baseline: 0.001, incident: 0.02, z: 10 },
          { client: "b", server: "c", what: "errors", baseline: 0, incident: 0.2, z: 30 },
        ],
        suspects: [],
      },
      "c",
    );
    expect(rows.map((r) => [r.client, r.server, r.leads])).toEqual([
      ["b", "c", true],
      ["x", "c", true],
      ["a", "b", false],
    ]);
    expect(rows[0]!.factor).toBeNull(); // from a zero failed share
    expect(rows[2]!.factor).toBe(5);
    expect(graphRows({ source: "tempo", edges: 1, anomalous: [{ client: "c", server: "d", what: "network", baseline: 0.001, incident: 0.02, z: 10 }], suspects: [] }, "c")[0]!.leads).toBe(true);
    expect(graphRows(undefined, null)).toEqual([]);
  });
});

describe("the subject's own labels", () => {
  it("are the subject keys and the component's name that all findings agree on", () => {
    const shared = subjectLabels("node-3", [
      { labels: { instance: "node-3:9100", job: "node", device: "vda" } },
      { labels: { instance: "node-3:9100", job: "node", nodename: "node-3" } },
    ]);
    expect(shared).toEqual({ instance: "node-3:9100", job: "node", nodename: "node-3" });
    expect(ownLabels({ instance: "node-3:9100", device: "vda" }, shared)).toEqual({ device: "vda" });
    expect(subjectLabels("node-3", [{ labels: { instance: "a" } }, { labels: { instance: "b" } }])).toEqual({});
  });
});
