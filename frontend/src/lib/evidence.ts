// Formatting of the analyzer's newer evidence: what changed on the alert's subject,
// request steps that got slower, how much of the windows the data covered, and
// metric shifts that are rates or appeared from nothing.
import type { CoverageView, EvidenceWindow, LatencySuspectView, ResourceFindingView } from "../api/types";
import type { T } from "../i18n";
import { promSelector, formatValue } from "./analysis";
import { formatTime } from "./format";

/** `metric{...}`, or `rate(metric{...})` when the values are a counter's per-second rate. */
export function seriesLabel(metric: string, labels: Record<string, string>, rate: boolean | undefined): string {
  const sel = promSelector(metric, labels);
  return rate ? `rate(${sel})` : sel;
}

/** A metric value to three significant digits, with "/s" for a rate: 98000000 → "98M/s". */
export function formatMetricValue(x: number | null | undefined, rate: boolean | undefined): string {
  const v = formatValue(x);
  return rate && v !== "—" ? `${v}/s` : v;
}

/** When something began relative to the alert, in whole minutes (negative: before it). */
export type Since = { when: "before" | "after"; minutes: number } | { when: "at" } | null;

/** `startedAt` relative to `alertAt` (null when either is missing or unreadable). */
export function sinceAlert(startedAt: string | null | undefined, alertAt: string | null | undefined): Since {
  if (!startedAt || !alertAt) return null;
  const a = Date.parse(startedAt);
  const b = Date.parse(alertAt);
  if (Number.isNaN(a) || Number.isNaN(b)) return null;
  const minutes = Math.round((a - b) / 60_000);
  if (minutes === 0) return { when: "at" };
  return minutes < 0 ? { when: "before", minutes: -minutes } : { when: "after", minutes };
}

/** Milliseconds per request: 0.42 → "0.4 ms", 12 → "12 ms", 840.5 → "841 ms", 1830 → "1.83 s". */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 10) return `${Number(ms.toFixed(1))} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${Number((ms / 1000).toPrecision(3))} s`;
}

/** One slowed step of requests, with the service it points at. */
export interface LatencyRow {
  key: string;
  service: string;
  caller: string;
  callee: string;
  baselineMs: number;
  incidentMs: number;
  requests: number;
  z: number;
}

/** The slowed steps of every latency suspect, suspects in their order, each one's steps most deviations first. */
export function latencyRows(latency: LatencySuspectView[] | undefined): LatencyRow[] {
  const rows: LatencyRow[] = [];
  for (const s of latency ?? []) {
    s.slowed.forEach((e, i) =>
      rows.push({
        key: `${s.service}|${e.caller}>${e.callee}|${i}`,
        service: s.service,
        caller: e.caller,
        callee: e.callee,
        baselineMs: e.baseline_ms,
        incidentMs: e.incident_ms,
        requests: e.requests,
        z: e.z,
      }),
    );
  }
  return rows;
}

/** How many times slower: 12 → 840 ms is "×70". */
export function slowdown(baselineMs: number, incidentMs: number): number | null {
  if (!(baselineMs > 0) || !Number.isFinite(incidentMs)) return null;
  return incidentMs / baselineMs;
}

/** A subject finding's "baseline → peak" with units. */
export function findingChange(f: Pick<ResourceFindingView, "baseline" | "peak" | "rate">): string {
  return `${formatMetricValue(f.baseline, f.rate)} → ${formatMetricValue(f.peak, f.rate)}`;
}

/** One short fact about the data's coverage, as a message key and its values. */
export interface CoverageNote {
  key:
    | "analysis.coverage.span"
    | "analysis.coverage.lateStart"
    | "analysis.coverage.judged"
    | "analysis.coverage.noBaseline"
    | "analysis.coverage.rates"
    | "analysis.coverage.duplicates";
  values: Record<string, string | number>;
  /** Worth the reader's attention: the result rests on less than was asked for. */
  warn: boolean;
}

/**
 * What the coverage says, shortly: the span of the data, a baseline the data began
 * late in (more than a tenth of it missing), series judged, series without a baseline,
 * counters judged as rates, duplicates dropped. Zero counts are left out.
 */
export function coverageNotes(c: CoverageView | null | undefined, w: EvidenceWindow | null | undefined, fmt: (iso: string) => string): CoverageNote[] {
  if (!c) return [];
  const out: CoverageNote[] = [];
  if (c.first_data_at && c.last_data_at)
    out.push({ key: "analysis.coverage.span", values: { from: fmt(c.first_data_at), to: fmt(c.last_data_at) }, warn: false });
  if (w && c.first_data_at) {
    const start = Date.parse(w.baseline_start);
    const end = Date.parse(w.incident_start);
    const first = Date.parse(c.first_data_at);
    if (![start, end, first].some(Number.isNaN) && end > start && first - start > (end - start) / 10) {
      const pct = Math.round((Math.min(first, end) - start) / (end - start) * 100);
      out.push({ key: "analysis.coverage.lateStart", values: { pct }, warn: true });
    }
  }
  if (c.series_judged) out.push({ key: "analysis.coverage.judged", values: { n: c.series_judged }, warn: false });
  if (c.series_without_baseline)
    out.push({ key: "analysis.coverage.noBaseline", values: { n: c.series_without_baseline }, warn: c.series_without_baseline > c.series_judged });
  if (c.counters_as_rates) out.push({ key: "analysis.coverage.rates", values: { n: c.counters_as_rates }, warn: false });
  if (c.duplicate_series) out.push({ key: "analysis.coverage.duplicates", values: { n: c.duplicate_series }, warn: false });
  return out;
}

/** "3 min before the alert", "at the alert", or the time itself when the alert's is unknown. */
export function sinceText(t: T, since: Since, startedAt: string): string {
  if (!since) return formatTime(startedAt);
  if (since.when === "at") return t("analysis.since.at");
  return t(since.when === "before" ? "analysis.since.before" : "analysis.since.after", { n: since.minutes });
}

