import { describe, expect, it } from "vitest";
import type { AnalysisResult, EvidenceView, LogTemplateView, MetricShiftView } from "../api/types";
import {
  summaryAfterRootCause,
  highlightVariables,
  chartWindow,
  chartedShifts,
  formatChange,
  formatRatio,
  formatValue,
  compactArgs,
  parseUsage,
  prettyArgs,
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
  appeared: false,
  rate: false,
};

const evidence: EvidenceView = {
  window: { baseline_start: "2023-01-29T08:09:04Z", incident_start: "2023-01-29T08:39:04Z", incident_end: "2023-01-29T08:54:04Z" },
  log_templates: [],
  metric_shifts: [shift, { ...shift, metric: "other", points: [] }],
  error_origins: [],
  path_divergences: [],
  missing_steps: [],
  latency: [],
  suspects: [
    {
      component: "ts-contacts-service",
      kind: "service",
      score: 0.75,
      reasons: ["from the evidence"],
      first_anomaly_at: "2023-01-29T08:43:17.121Z",
      pods: ["ts-contacts-service-1"],
      lead: "origins",
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
    expect(formatValue(41)).toBe("41.0");
    expect(formatValue(15234)).toBe("15.2k");
    expect(formatValue(105_230_000)).toBe("105M");
    expect(formatValue(Number.NaN)).toBe("—");
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
    expect([rows[0]!.lead, rows[1]!.lead]).toEqual(["origins", undefined]);
    expect(suspectRows(undefined, evidence).map((s) => s.reasons)).toEqual([["from the evidence"]]);
    expect(suspectRows(undefined, undefined)).toEqual([]);
  });
  it("template flags", () => {
    const t = { is_new: true, is_bursting: true, is_error_level: true } as LogTemplateView;
    expect(templateFlags(t)).toEqual(["new", "bursting", "error"]);
    expect(templateFlags({ ...t, is_new: false, is_error_level: false })).toEqual(["bursting"]);
  });
  it("usage, old shape: only the run time", () => {
    expect(parseUsage({ seconds: 0.297 })).toEqual({ ms: 297, llm: null });
    // Fields of no real shape are not read.
    expect(parseUsage({ seconds: 1, total_tokens: 9, steps: 3, prompt_tokens: 5 })).toEqual({ ms: 1000, llm: null });
  });
  it("usage, new shape: the LLM agent's record", () => {
    const u = parseUsage({
      seconds: 3.2,
      llm: {
        model: "gpt-4o",
        prompt_version: "rca-2026-11-25.1",
        llm_calls: 3,
        prompt_tokens: 5210,
        completion_tokens: 412,
        tool_calls: [
          { name: "query_metrics", arguments: '{"source":"prom","query":"rate(x[5m])"}', rows: 4, ms: 120 },
          { name: "query_logs", arguments: "{}", rows: 0, ms: 80, error: "loki: timeout" },
          { arguments: { source: "loki" } },
          "junk",
          null,
        ],
        llm_ms: 8000,
        tool_ms: 300,
        wall_ms: 8400,
        repaired: false,
        redacted_values: 5,
        outcome: "answered",
      },
    });
    expect(u).toEqual({
      ms: 3200,
      llm: {
        model: "gpt-4o",
        prompt_version: "rca-2026-11-25.1",
        llm_calls: 3,
        prompt_tokens: 5210,
        completion_tokens: 412,
        total_tokens: 5622,
        tokens_estimated: false,
        tool_calls: [
          { name: "query_metrics", arguments: '{"source":"prom","query":"rate(x[5m])"}', rows: 4, ms: 120, error: null },
          { name: "query_logs", arguments: "{}", rows: 0, ms: 80, error: "loki: timeout" },
          { name: "", arguments: '{"source":"loki"}', rows: null, ms: null, error: null },
        ],
        llm_ms: 8000,
        tool_ms: 300,
        wall_ms: 8400,
        overhead_ms: 400,
        repaired: false,
        redacted_values: 5,
        outcome: "answered",
        error: null,
      },
    });
  });
  it("usage, fallback and missing fields", () => {
    const u = parseUsage({ llm: { model: "gpt-4o", outcome: "fallback", error: "invalid JSON", wall_ms: 500, tool_calls: "no" } });
    expect(u?.ms).toBeNull();
    expect(u?.llm).toMatchObject({
      model: "gpt-4o",
      outcome: "fallback",
      error: "invalid JSON",
      total_tokens: null,
      llm_calls: null,
      overhead_ms: null,
      repaired: null,
      tool_calls: [],
    });
    expect(parseUsage({ seconds: 2, llm: {} })?.llm).toMatchObject({ model: null, outcome: null, tool_calls: [] });
    expect(parseUsage({ seconds: "2", llm: null })).toBeNull();
    expect(parseUsage({})).toBeNull();
    expect(parseUsage(null)).toBeNull();
    expect(parseUsage([1])).toBeNull();
  });
  it("tool arguments on one line and indented", () => {
    expect(compactArgs('{\n  "source": "prom",\n  "query": "up"\n}')).toBe('{"source":"prom","query":"up"}');
    expect(compactArgs("not\n json")).toBe("not json");
    expect(prettyArgs('{"source":"prom"}')).toBe('{\n  "source": "prom"\n}');
    expect(prettyArgs("not json")).toBe("not json");
  });
  it("ticket description from a result", () => {
    expect(ticketDescription(result)).toBe(
      "The most probable root cause is ts-contacts-service\n\n1. Follow failing requests by trace id\n2. Watch the alerting metric recover",
    );
    expect(ticketDescription(null)).toBe("");
  });
});


describe("highlightVariables", () => {
  it("marks the parts a template leaves variable", () => {
    expect(highlightVariables("user <*> logged in from <*>", "user 42 logged in from 10.0.0.1")).toEqual([
      { text: "user ", variable: false },
      { text: "42", variable: true },
      { text: " logged in from ", variable: false },
      { text: "10.0.0.1", variable: true },
    ]);
    expect(highlightVariables("<*> ERROR <*> failed", "12:00 ERROR db failed")).toEqual([
      { text: "12:00", variable: true },
      { text: " ERROR ", variable: false },
      { text: "db", variable: true },
      { text: " failed", variable: false },
    ]);
  });
  it("keeps a line that does not follow its template whole", () => {
    expect(highlightVariables("a <*> b", "x y z")).toEqual([{ text: "x y z", variable: false }]);
    expect(highlightVariables("no variables", "no variables")).toEqual([{ text: "no variables", variable: false }]);
  });
});

describe("summaryAfterRootCause", () => {
  const root = 'cart is logging more errors: 6 errors where 2.4 are usual: "Timeout"';
  it("drops the root cause the summary starts with", () => {
    expect(summaryAfterRootCause({ root_cause: root, summary: `${root}. Next suspects: db, api.` })).toBe("Next suspects: db, api.");
    expect(summaryAfterRootCause({ root_cause: "支付服务变慢", summary: "支付服务变慢。其次：db。" })).toBe("其次：db。");
  });
  it("keeps a summary that says something else, and is empty when it adds nothing", () => {
    expect(summaryAfterRootCause({ root_cause: root, summary: "Nothing else." })).toBe("Nothing else.");
    expect(summaryAfterRootCause({ root_cause: root, summary: root })).toBe("");
    expect(summaryAfterRootCause({ root_cause: "", summary: "Only a summary." })).toBe("Only a summary.");
  });
});
