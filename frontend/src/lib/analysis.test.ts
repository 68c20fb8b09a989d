import { describe, expect, it } from "vitest";
import { alertStart, parseEvidenceOverview, parseResult, parseSeries, parseSources, parseUsage, ticketDescription, toEpochSeconds } from "./analysis";
import { alignSeries } from "./chart";

const result = {
  summary: "checkout-api 5xx rose after the deploy",
  root_cause: "bad config in release 2.4.1",
  confidence: 0.82,
  severity: "P1",
  evidence: [
    { source: "loki-prod", kind: "log", detail: "NullPointerException in PaymentClient (x412)", query: '{app="checkout"} |= "Exception"' },
    {
      source: "prometheus",
      kind: "metric",
      detail: "5xx ratio 0.4% → 12%",
      query: "sum(rate(http_requests_total{code=~\"5..\"}[5m]))",
      series: [{ labels: { __name__: "ratio", pod: "a" }, samples: [{ timestamp: "2026-01-01T00:01:00Z", value: 2 }, { timestamp: "2026-01-01T00:00:00Z", value: "1" }] }],
    },
  ],
  suspects: [
    { component: "db", kind: "service", score: 0.2, reasons: ["slow queries"] },
    { component: "checkout-api", kind: "service", score: 0.9, reasons: ["errors started at deploy", "pods restarting"] },
  ],
  suggestions: ["Roll back to 2.4.0", { step: "Check the config diff" }],
};

describe("parseResult", () => {
  it("reads the SPEC §5 shape and ranks suspects by score", () => {
    const r = parseResult(result)!;
    expect(r.summary).toMatch(/5xx/);
    expect(r.confidence).toBe(0.82);
    expect(r.suspects.map((s) => s.component)).toEqual(["checkout-api", "db"]);
    expect(r.suspects[0]!.reasons).toHaveLength(2);
    expect(r.suggestions).toEqual(["Roll back to 2.4.0", "Check the config diff"]);
    expect(r.evidence[0]!.query).toContain("Exception");
    expect(r.evidence[0]!.series).toEqual([]);
    expect(r.evidence[1]!.series[0]).toEqual({
      name: 'ratio{pod="a"}',
      points: [
        [1767225600, 1],
        [1767225660, 2],
      ],
    });
  });
  it("survives partial and odd documents", () => {
    expect(parseResult(null)).toBeNull();
    expect(parseResult("text")).toBeNull();
    const r = parseResult({ summary: 3, suspects: ["x", null], evidence: ["plain"], suggestions: "do it" })!;
    expect(r.summary).toBe("3");
    expect(r.suspects).toEqual([{ component: "x", kind: "", score: null, reasons: [] }]);
    expect(r.evidence[0]!.detail).toBe("plain");
    expect(r.suggestions).toEqual(["do it"]);
    expect(r.confidence).toBeNull();
  });
});

describe("series", () => {
  it("reads Prometheus value pairs and epoch milliseconds", () => {
    expect(parseSeries({ values: [[1767225600, "0.5"], [1767225660000, 1]] })[0]!.points).toEqual([
      [1767225600, 0.5],
      [1767225660, 1],
    ]);
    expect(parseSeries({ detail: "no data" })).toEqual([]);
  });
  it("aligns several series on one x axis", () => {
    expect(
      alignSeries([
        { name: "a", points: [[1, 10], [3, 30]] },
        { name: "b", points: [[2, 20], [3, 31]] },
      ]),
    ).toEqual([[1, 2, 3], [10, null, 30], [null, 20, 31]]);
  });
  it("times in any form", () => {
    expect(toEpochSeconds("2026-01-01T00:00:00Z")).toBe(1767225600);
    expect(toEpochSeconds("1767225600")).toBe(1767225600);
    expect(toEpochSeconds(1767225600000)).toBe(1767225600);
    expect(toEpochSeconds("nope")).toBeNull();
  });
  it("alert start from the parsed alert, else the window", () => {
    expect(alertStart({ starts_at: "2026-01-01T00:00:00Z" }, null)).toBe(1767225600);
    expect(alertStart(null, { alert_at: "2026-01-01T00:00:00Z" })).toBe(1767225600);
    expect(alertStart(null, { incident: { start: "2026-01-01T00:00:00Z" } })).toBe(1767225600);
    expect(alertStart(null, null)).toBeNull();
  });
});

describe("sources, usage, evidence", () => {
  it("per-source collection results, from a list or a map", () => {
    expect(parseSources([{ name: "loki", query: "{app=\"x\"}", rows: 120, ms: 340 }, { name: "es", error: "timeout after 10 s" }])).toEqual([
      { name: "loki", type: undefined, query: '{app="x"}', rows: 120, ms: 340, error: undefined },
      { name: "es", type: undefined, query: undefined, rows: null, ms: null, error: "timeout after 10 s" },
    ]);
    expect(parseSources({ prom: { rows: 3 } })[0]).toMatchObject({ name: "prom", rows: 3 });
    expect(parseSources(null)).toEqual([]);
  });
  it("token usage", () => {
    expect(parseUsage({ prompt_tokens: 1000, completion_tokens: 200 })).toMatchObject({ total_tokens: 1200 });
    expect(parseUsage({})).toBeNull();
  });
  it("stored evidence: log templates and metric findings", () => {
    const ov = parseEvidenceOverview({
      templates: [{ template: "timeout calling <*>", count_before: 0, count_during: 42 }],
      metrics: [{ query: "up", samples: [[1, 1]] }],
    });
    expect(ov.templates[0]).toMatchObject({ before: 0, during: 42 });
    expect(ov.metrics[0]!.series).toHaveLength(1);
    expect(ov.metrics[0]!.detail).toBe("up");
  });
  it("ticket description from a result", () => {
    expect(ticketDescription(parseResult(result))).toBe(
      "checkout-api 5xx rose after the deploy\n\n1. Roll back to 2.4.0\n2. Check the config diff",
    );
    expect(ticketDescription(null)).toBe("");
  });
});
