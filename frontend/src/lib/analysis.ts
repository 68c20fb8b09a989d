// Reading the parts of an analysis that the OpenAPI document leaves as free JSON
// (result, sources, usage, evidence, window). Shapes follow SPEC §5; everything is
// read defensively so a partial or newer document never breaks the page.
import type { AnalysisStatus } from "../api/types";

export interface EvidenceItem {
  source: string;
  kind: string;
  detail: string;
  query?: string;
  link?: string;
  /** Metric series behind the item, when the engine attached them. */
  series: Series[];
}

export interface Suspect {
  component: string;
  kind: string;
  score: number | null;
  reasons: string[];
}

export interface AnalysisResult {
  summary: string;
  root_cause: string;
  confidence: number | null;
  severity: string | null;
  evidence: EvidenceItem[];
  suspects: Suspect[];
  suggestions: string[];
}

export interface SourceRun {
  name: string;
  type?: string;
  query?: string;
  rows: number | null;
  ms: number | null;
  error?: string;
}

export interface Usage {
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  steps: number | null;
  ms: number | null;
}

/** One metric series: x in epoch seconds, y as numbers. */
export interface Series {
  name: string;
  points: [number, number][];
}

export const FINAL_STATUSES: readonly AnalysisStatus[] = ["completed", "failed"];
export const STATUS_STEPS: readonly AnalysisStatus[] = ["pending", "collecting", "analyzing", "completed"];

export function isFinal(status: string | undefined): boolean {
  return status === "completed" || status === "failed";
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | null {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : null;
}

function str(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return "";
}

function num(v: unknown): number | null {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return null;
}

function strings(v: unknown): string[] {
  if (!Array.isArray(v)) return typeof v === "string" && v ? [v] : [];
  return v
    .map((x) => {
      if (typeof x === "string") return x;
      const o = obj(x);
      return o ? str(o.text ?? o.step ?? o.action ?? o.detail ?? o.description) || JSON.stringify(o) : str(x);
    })
    .filter(Boolean);
}

function pick(o: Obj, ...keys: string[]): unknown {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
}

export function parseResult(v: unknown): AnalysisResult | null {
  const o = obj(v);
  if (!o) return null;
  const evidence = (Array.isArray(o.evidence) ? o.evidence : []).map(parseEvidence).filter((e) => e !== null);
  const suspects = (Array.isArray(o.suspects) ? o.suspects : [])
    .map((s): Suspect | null => {
      const x = obj(s);
      if (!x) return typeof s === "string" ? { component: s, kind: "", score: null, reasons: [] } : null;
      return {
        component: str(pick(x, "component", "name", "target")),
        kind: str(x.kind),
        score: num(x.score),
        reasons: strings(x.reasons ?? x.reason),
      };
    })
    .filter((s): s is Suspect => s !== null)
    .sort((a, b) => (b.score ?? -1) - (a.score ?? -1));
  return {
    summary: str(o.summary),
    root_cause: str(o.root_cause),
    confidence: num(o.confidence),
    severity: str(o.severity) || null,
    evidence,
    suspects,
    suggestions: strings(o.suggestions),
  };
}

export function parseEvidence(v: unknown): EvidenceItem | null {
  const o = obj(v);
  if (!o) return typeof v === "string" ? { source: "", kind: "", detail: v, series: [] } : null;
  const link = str(o.link);
  return {
    source: str(o.source),
    kind: str(o.kind),
    detail: str(pick(o, "detail", "description", "message", "template")),
    query: str(o.query) || undefined,
    link: link || undefined,
    series: parseSeries(o),
  };
}

/** Time (RFC 3339 string, epoch seconds or epoch milliseconds) → epoch seconds. */
export function toEpochSeconds(t: unknown): number | null {
  if (typeof t === "number" && Number.isFinite(t)) return t > 1e11 ? t / 1000 : t;
  if (typeof t === "string") {
    if (/^\d+(\.\d+)?$/.test(t)) return toEpochSeconds(Number(t));
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? null : ms / 1000;
  }
  return null;
}

function parsePoints(v: unknown): [number, number][] {
  if (!Array.isArray(v)) return [];
  const out: [number, number][] = [];
  for (const p of v) {
    let t: unknown;
    let y: unknown;
    if (Array.isArray(p)) [t, y] = p;
    else {
      const o = obj(p);
      if (!o) continue;
      t = pick(o, "timestamp", "ts", "t", "time", "x");
      y = pick(o, "value", "v", "y");
    }
    const x = toEpochSeconds(t);
    const n = num(y);
    if (x !== null && n !== null) out.push([x, n]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

function labelName(labels: unknown): string {
  const o = obj(labels);
  if (!o) return "";
  const name = str(o.__name__);
  const rest = Object.entries(o)
    .filter(([k]) => k !== "__name__")
    .map(([k, v]) => `${k}="${str(v)}"`)
    .join(", ");
  return rest ? `${name}{${rest}}` : name;
}

/**
 * Metric series carried by an evidence item or finding, in any of the shapes the
 * connectors produce: `series: [{labels|metric|name, samples|values|points}]`, or
 * `samples|values|points` directly on the item.
 */
export function parseSeries(o: Obj): Series[] {
  const out: Series[] = [];
  const direct = pick(o, "samples", "values", "points");
  if (Array.isArray(direct)) {
    const points = parsePoints(direct);
    if (points.length) out.push({ name: str(pick(o, "name", "metric", "query")) || "value", points });
  }
  if (Array.isArray(o.series)) {
    o.series.forEach((s, i) => {
      const x = obj(s);
      if (!x) return;
      const points = parsePoints(pick(x, "samples", "values", "points"));
      if (!points.length) return;
      const name = str(x.name) || labelName(x.labels ?? x.metric) || `series ${i + 1}`;
      out.push({ name, points });
    });
  }
  return out;
}

/** When the alert started, in epoch seconds, from the parsed alert or the window. */
export function alertStart(alert: unknown, window: unknown): number | null {
  const a = obj(alert);
  const w = obj(window);
  const candidates = [
    a && pick(a, "starts_at", "startsAt", "start", "fired_at", "at"),
    w && pick(w, "alert_at", "alert_start", "anchor", "incident_start"),
    obj(w?.incident) && pick(obj(w?.incident)!, "start", "from"),
  ];
  for (const c of candidates) {
    const t = toEpochSeconds(c);
    if (t !== null) return t;
  }
  return null;
}

export function parseSources(v: unknown): SourceRun[] {
  const list = Array.isArray(v) ? v : obj(v) ? Object.entries(obj(v)!).map(([name, x]) => ({ name, ...obj(x) })) : [];
  return list
    .map((s): SourceRun | null => {
      const o = obj(s);
      if (!o) return null;
      const error = str(o.error);
      return {
        name: str(pick(o, "name", "source", "datasource")) || "—",
        type: str(pick(o, "type", "kind")) || undefined,
        query: str(o.query) || undefined,
        rows: num(pick(o, "rows", "count", "hits")),
        ms: num(pick(o, "ms", "took_ms", "elapsed_ms", "latency_ms")),
        error: error || undefined,
      };
    })
    .filter((s): s is SourceRun => s !== null);
}

export function parseUsage(v: unknown): Usage | null {
  const o = obj(v);
  if (!o) return null;
  const prompt = num(pick(o, "prompt_tokens", "input_tokens"));
  const completion = num(pick(o, "completion_tokens", "output_tokens"));
  const total = num(o.total_tokens) ?? (prompt !== null || completion !== null ? (prompt ?? 0) + (completion ?? 0) : null);
  const u: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: total,
    steps: num(pick(o, "steps", "tool_calls")),
    ms: num(pick(o, "ms", "total_ms", "elapsed_ms", "duration_ms")),
  };
  return Object.values(u).some((x) => x !== null) ? u : null;
}

export interface LogTemplate {
  template: string;
  before: number | null;
  during: number | null;
  level?: string;
  source?: string;
}

export interface EvidenceOverview {
  templates: LogTemplate[];
  metrics: (EvidenceItem & { series: Series[] })[];
}

/** The stored evidence (log templates, metric findings), as far as it is readable. */
export function parseEvidenceOverview(v: unknown): EvidenceOverview {
  const o = obj(v);
  const templates: LogTemplate[] = [];
  const metrics: EvidenceOverview["metrics"] = [];
  if (!o) return { templates, metrics };
  const logs = pick(o, "templates", "logs", "log_templates");
  if (Array.isArray(logs)) {
    for (const l of logs) {
      const x = obj(l);
      if (!x) continue;
      templates.push({
        template: str(pick(x, "template", "pattern", "text")),
        before: num(pick(x, "before", "count_before", "baseline")),
        during: num(pick(x, "during", "count_during", "incident", "count")),
        level: str(x.level) || undefined,
        source: str(x.source) || undefined,
      });
    }
  }
  const ms = pick(o, "metrics", "metric_findings", "metric_shifts");
  if (Array.isArray(ms)) {
    for (const m of ms) {
      const x = obj(m);
      if (!x) continue;
      const e = parseEvidence(x);
      if (e) metrics.push({ ...e, kind: "metric", detail: e.detail || str(pick(x, "query", "name")) });
    }
  }
  return { templates, metrics };
}

/** The alert's labels as key/value pairs, for display. */
export function alertLabels(alert: unknown): [string, string][] {
  const a = obj(alert);
  const labels = a && obj(a.labels);
  return labels ? Object.entries(labels).map(([k, v]) => [k, str(v)]) : [];
}

/** A few headline fields of the parsed alert (name, service, severity...). */
export function alertFacts(alert: unknown): [string, string][] {
  const a = obj(alert);
  if (!a) return [];
  const keys = ["name", "alertname", "service", "host", "instance", "severity", "starts_at", "language", "format"];
  return keys.map((k): [string, string] => [k, str(a[k])]).filter(([, v]) => v !== "");
}

/** Builds the ticket description from a result: summary and suggestions. */
export function ticketDescription(r: AnalysisResult | null): string {
  if (!r) return "";
  const parts: string[] = [];
  if (r.summary) parts.push(r.summary);
  if (r.suggestions.length) parts.push(r.suggestions.map((s, i) => `${i + 1}. ${s}`).join("\n"));
  return parts.join("\n\n");
}
