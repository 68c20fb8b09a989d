import { describe, expect, it } from "vitest";
import type { AnalysisResult, EvidenceView, LogTemplateView, MetricShiftView } from "../api/types";
import {
  chartWindow,
  chartedShifts,
  formatChange,
  formatRatio,
  formatValue,
  parseUsage,
  promSelector,
  shiftSeries,
  suspectRows,
  templateFlags,
  ticketDescription,
  toEpochSeconds,
} from "./analysis";
import { alignSeries } from "./chart";

const result: AnalysisResult = {
  summary: "The most probable root cause is ts-contacts-service",
  root_cause: "ts-contacts-service is failing",
  confidence: 0.26,
  severity: "P1",
  evidence: [{ source: "logs", kind: "log", detail: "bursting log template", query: "logs-* _search {}" }],
  suspects: [
    { component: "ts-food-service", kind: "service", score: 0.73, reasons: ["first error of 18 failing request(s)"] },
    { component: "ts-contacts-service", kind: "service", score: 0.75, reasons: ["first error of 19 failing request(s)", "new error log"] },
  ],
  suggestions: ["Follow failing requests by trace id", "Watch the alerting metric recover"],
};

const shift: MetricShiftView = {
  metric: "http_server_requests_error_ratio",
  labels: { service: "ts-contacts-service", namespace: "train-ticket", path: 'a"b' },
  baseline_median: 0.002,
  baseline_spread: 0.001,
  peak: 0.31,
  score: 308,
  direction: "up",
  relative_change: 154,
  started_at: "2023-01-29T08:43:04Z",
  anomalous_points: 11,
  points: [
    { at: "2023-01-29T08:44:04Z", value: 0.31 },
    { at: "2023-01-29T08:43:04Z", value: 0.2 },
  ],
};

const evidence: EvidenceView = {
  window: { baseline_start: "2023-01-29T08:09:04Z", incident_start: "2023-01-29T08:39:04Z", incident_end: "2023-01-29T08:54:04Z" },
  log_templates: [],
  metric_shifts: [shift, { ...shift, metric: "other", points: [] }],
  error_origins: [],
  suspects: [
    {
      component: "ts-contacts-service",
      kind: "service",
      score: 0.75,
      reasons: ["from the evidence"],
      first_anomaly_at: "2023-01-29T08:43:17.121Z",
      pods: ["ts-contacts-service-1"],
    },
  ],
  log_lines: 10230,
  series: 879,
  templates_total: 176,
};

describe("metric shifts", () => {
  it("selectors as the engine writes them: labels in key order, quotes escaped", () => {
    expect(promSelector(shift.metric, shift.labels)).toBe(
      'http_server_requests_error_ratio{namespace="train-ticket",path="a\\"b",service="ts-contacts-service"}',
    );
    expect(promSelector("up", {})).toBe("up{}");
  });
  it("points become one time-ordered series in epoch seconds", () => {
    const s = shiftSeries(shift);
    expect(s.points).toEqual([
      [1674981784, 0.2],
      [1674981844, 0.31],
    ]);
    expect([...chartedShifts(evidence).keys()]).toEqual([s.name]);
    expect(chartedShifts(undefined).size).toBe(0);
  });
  it("aligns several series on one x axis", () => {
    expect(
      alignSeries([
        { name: "a", points: [[1, 10], [3, 30]] },
        { name: "b", points: [[2, 20], [3, 31]] },
      ]),
    ).toEqual([[1, 2, 3], [10, null, 30], [null, 20, 31]]);
  });
  it("ratios and changes", () => {
    expect(formatRatio(78)).toBe("×78");
    expect(formatRatio(1.5)).toBe("×1.5");
    expect(formatRatio(1234)).toBe("×1,234");
    expect(formatRatio(null)).toBe("—");
    expect(formatChange(154)).toBe("+15,400%");
    expect(formatChange(-0.4)).toBe("−40%");
    expect(formatValue(0.295607)).toBe("0.296");
    expect(formatValue(0.001814)).toBe("0.00181");
    expect(formatValue(41)).toBe("41");
    expect(formatValue(15234)).toBe("15.23k");
  });
});

describe("windows", () => {
  it("alert start and incident window from the planned window, else the evidence's", () => {
    const w = chartWindow({
      window: {
        baseline_start: "2023-01-29T08:09:04Z",
        incident_start: "2023-01-29T08:39:04Z",
        incident_end: "2023-01-29T08:54:04Z",
        alert_start: "2023-01-29T08:44:04Z",
      },
      evidence: undefined,
      alert: null,
    });
    expect(w).toEqual({ alertStart: 1674981844, incidentStart: 1674981544, incidentEnd: 1674982444 });
    const fromEvidence = chartWindow({ window: undefined, evidence, alert: { starts_at: "2023-01-29T08:44:04Z" } });
    expect(fromEvidence).toEqual(w);
    expect(chartWindow({ window: undefined, evidence: undefined, alert: null }).alertStart).toBeNull();
  });
  it("times", () => {
    expect(toEpochSeconds("2026-01-01T00:00:00Z")).toBe(1767225600);
    expect(toEpochSeconds("nope")).toBeNull();
    expect(toEpochSeconds(undefined)).toBeNull();
  });
});

describe("suspects, templates, usage", () => {
  it("the result's suspects, highest first, with the evidence's details", () => {
    const rows = suspectRows(result, evidence);
    expect(rows.map((s) => s.component)).toEqual(["ts-contacts-service", "ts-food-service"]);
    expect(rows[0]!.reasons).toHaveLength(2);
    expect(rows[0]!.first_anomaly_at).toBe("2023-01-29T08:43:17.121Z");
    expect(rows[0]!.pods).toEqual(["ts-contacts-service-1"]);
    expect(rows[1]!.pods).toEqual([]);
    expect(suspectRows(undefined, evidence).map((s) => s.reasons)).toEqual([["from the evidence"]]);
    expect(suspectRows(undefined, undefined)).toEqual([]);
  });
  it("template flags", () => {
    const t = { is_new: true, is_bursting: true, is_error_level: true } as LogTemplateView;
    expect(templateFlags(t)).toEqual(["new", "bursting", "error"]);
    expect(templateFlags({ ...t, is_new: false, is_error_level: false })).toEqual(["bursting"]);
  });
  it("usage: seconds from the pipeline, tokens from an LLM", () => {
    expect(parseUsage({ seconds: 0.297 })).toMatchObject({ ms: 297, total_tokens: null });
    expect(parseUsage({ prompt_tokens: 1000, completion_tokens: 200 })).toMatchObject({ total_tokens: 1200 });
    expect(parseUsage({})).toBeNull();
    expect(parseUsage(null)).toBeNull();
  });
  it("ticket description from a result", () => {
    expect(ticketDescription(result)).toBe(
      "The most probable root cause is ts-contacts-service\n\n1. Follow failing requests by trace id\n2. Watch the alerting metric recover",
    );
    expect(ticketDescription(null)).toBe("");
  });
});
