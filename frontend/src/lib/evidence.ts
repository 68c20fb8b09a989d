// Formatting of the analyzer's newer evidence: what changed on the alert's subject,
// request steps that got slower, edges of the service graph that went wrong, how
// much of the windows the data covered, and metric shifts that are rates or
// appeared from nothing.
import type { CoverageView, EvidenceWindow, GraphEdgeWhat, LatencySuspectView, ResourceFindingView, ServiceGraphView } from "../api/types";
import type { T } from "../i18n";
import { promSelector, formatValue } from "./analysis";
import { formatCount, formatTime } from "./format";

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

/** Labels that name the subject itself rather than tell its series apart (as oncall-core's `own_labels`). */
const SUBJECT_KEYS = new Set(["instance", "job", "node", "host"]);

/**
 * The labels that name the alert's subject (`instance="node-3:9100"`), said once for
 * the whole card: the subject keys and any label whose value is the component's
 * name, when every finding that has the key agrees on its value.
 */
export function subjectLabels(component: string, findings: Pick<ResourceFindingView, "labels">[]): Record<string, string> {
  const seen = new Map<string, string | null>();
  for (const f of findings)
    for (const [k, v] of Object.entries(f.labels)) {
      if (!SUBJECT_KEYS.has(k) && v !== component) continue;
      const before = seen.get(k);
      seen.set(k, before === undefined || before === v ? v : null);
    }
  const out: Record<string, string> = {};
  for (const [k, v] of [...seen.entries()].sort(([a], [b]) => a.localeCompare(b))) if (v !== null) out[k] = v;
  return out;
}

/** A finding's labels without those the card's title already says. */
export function ownLabels(labels: Record<string, string>, shared: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k, v]) => shared[k] !== v));
}

/** `instance="node-3:9100", job="node"`: labels as written in a selector, without braces. */
export function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(", ");
}

/** One edge of the service graph that went wrong, ready to show. */
export interface GraphEdgeRow {
  key: string;
  client: string;
  server: string;
  what: GraphEdgeWhat;
  baseline: string;
  incident: string;
  /** How many times the baseline (null for a failed share that was zero, or unknown). */
  factor: number | null;
  z: number;
  /** The edge points at the service the graph leads to (its server, or either end on the wire). */
  leads: boolean;
}

/** A service-graph value as people read it: seconds as milliseconds, a failed share as a percentage. */
export function graphValue(what: GraphEdgeWhat, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  if (what === "errors") {
    const p = v * 100;
    return `${p === 0 ? 0 : p < 10 ? Number(p.toPrecision(2)) : Math.round(p)}%`;
  }
  if (what === "latency" || what === "network") return v < 0 ? `−${formatMs(-v * 1000)}` : formatMs(v * 1000);
  return formatValue(v);
}

/** The service the graph's anomalous edges lead to (its first suspect), if any. */
export function graphLeadsTo(g: ServiceGraphView | null | undefined): string | null {
  return g?.suspects[0]?.service ?? null;
}

/** The graph's edges that went wrong, those pointing at `leadsTo` first, each group most deviations first. */
export function graphRows(g: ServiceGraphView | null | undefined, leadsTo: string | null): GraphEdgeRow[] {
  const rows = (g?.anomalous ?? []).map((e, i): GraphEdgeRow => {
    const leads = leadsTo !== null && (e.server === leadsTo || (e.what === "network" && e.client === leadsTo));
    return {
      key: `${e.client}>${e.server}|${e.what}|${i}`,
      client: e.client,
      server: e.server,
      what: e.what,
      baseline: graphValue(e.what, e.baseline),
      incident: graphValue(e.what, e.incident),
      factor: e.baseline > 0 && Number.isFinite(e.incident) ? e.incident / e.baseline : null,
      z: e.z,
      leads,
    };
  });
  return rows.sort((a, b) => Number(b.leads) - Number(a.leads) || b.z - a.z);
}

/** A subject finding's "baseline → peak" with units. */
export function findingChange(f: Pick<ResourceFindingView, "baseline" | "peak" | "rate">): string {
  return `${formatMetricValue(f.baseline, f.rate)} → ${formatMetricValue(f.peak, f.rate)}`;
}

/** One short fact about the data's coverage, as a message key and its values. */
export interface CoverageNote {
  key:
    | "analysis.coverage.span"
    | "analysis.coverage.shortBaseline"
    | "analysis.coverage.lateStart"
    | "analysis.coverage.notFilled"
    | "analysis.coverage.traceLines"
    | "analysis.coverage.noTraceLines"
    | "analysis.coverage.judged"
    | "analysis.coverage.noBaseline"
    | "analysis.coverage.rates"
    | "analysis.coverage.duplicates";
  values: Record<string, string | number>;
  /** Worth the reader's attention: the result rests on less than was asked for. */
  warn: boolean;
}

/** An incident window whose data ends this long before its end has not filled yet. */
const NOT_FILLED_MS = 2 * 60_000;

/**
 * What the coverage says, shortly: the span of the data, a baseline shorter than
 * asked (the analyzer started it where the data began) or one the data began late
 * in (more than a tenth of it missing), an incident window not filled yet, log lines
 * with trace ids (none, when there were logs), series judged, series without a
 * baseline (a warning when half or more), counters judged as rates, duplicates
 * dropped. Zero counts are left out.
 */
export function coverageNotes(
  c: CoverageView | null | undefined,
  w: EvidenceWindow | null | undefined,
  fmt: (iso: string) => string,
  logLines = 0,
): CoverageNote[] {
  if (!c) return [];
  const out: CoverageNote[] = [];
  if (c.first_data_at && c.last_data_at)
    out.push({ key: "analysis.coverage.span", values: { from: fmt(c.first_data_at), to: fmt(c.last_data_at) }, warn: false });
  if (c.planned_baseline_start) {
    const from = c.first_data_at ?? w?.baseline_start;
    if (from) out.push({ key: "analysis.coverage.shortBaseline", values: { asked: fmt(c.planned_baseline_start), from: fmt(from) }, warn: true });
  } else if (w && c.first_data_at) {
    const start = Date.parse(w.baseline_start);
    const end = Date.parse(w.incident_start);
    const first = Date.parse(c.first_data_at);
    if (![start, end, first].some(Number.isNaN) && end > start && first - start > (end - start) / 10) {
      const pct = Math.round((Math.min(first, end) - start) / (end - start) * 100);
      out.push({ key: "analysis.coverage.lateStart", values: { pct }, warn: true });
    }
  }
  if (w && c.last_data_at) {
    const end = Date.parse(w.incident_end);
    const last = Date.parse(c.last_data_at);
    if (!Number.isNaN(end) && !Number.isNaN(last) && end - last >= NOT_FILLED_MS)
      out.push({ key: "analysis.coverage.notFilled", values: { to: fmt(c.last_data_at) }, warn: true });
  }
  if (c.trace_lines) out.push({ key: "analysis.coverage.traceLines", values: { n: formatCount(c.trace_lines) }, warn: false });
  else if (c.trace_lines === 0 && logLines > 0) out.push({ key: "analysis.coverage.noTraceLines", values: {}, warn: false });
  if (c.series_judged) out.push({ key: "analysis.coverage.judged", values: { n: c.series_judged }, warn: false });
  if (c.series_without_baseline)
    // Half or more without a baseline: the metrics could hardly speak.
    out.push({ key: "analysis.coverage.noBaseline", values: { n: c.series_without_baseline }, warn: c.series_without_baseline * 2 >= c.series_judged });
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

