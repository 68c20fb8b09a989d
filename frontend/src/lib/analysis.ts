// Helpers for reading an analysis (`AnalysisView` in the OpenAPI document). Window,
// sources, evidence and result are typed by the server; the parsed alert and usage
// stay free JSON and are read defensively.
import type {
  Analysis,
  AnalysisResult,
  AnalysisStatus,
  EvidenceView,
  LogTemplateView,
  MetricShiftView,
  ResultSuspect,
  SuspectView,
} from "../api/types";
import { humanNumber } from "./format";

/** One metric series for a chart: x in epoch seconds, y as numbers. */
export interface Series {
  name: string;
  points: [number, number][];
}

/** The windows of an analysis in epoch seconds, for chart markers. */
export interface ChartWindow {
  alertStart: number | null;
  incidentStart: number | null;
  incidentEnd: number | null;
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
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** RFC 3339 time → epoch seconds (null when missing or unreadable). */
export function toEpochSeconds(t: string | null | undefined): number | null {
  if (!t) return null;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : ms / 1000;
}

/** The alert start and incident window, from the planned window (else the evidence's). */
export function chartWindow(a: Pick<Analysis, "window" | "evidence" | "alert">): ChartWindow {
  const w = a.window;
  const ew = a.evidence?.window;
  const alertAt = w?.alert_start ?? str(obj(a.alert)?.starts_at);
  return {
    alertStart: toEpochSeconds(alertAt),
    incidentStart: toEpochSeconds(w?.incident_start ?? ew?.incident_start),
    incidentEnd: toEpochSeconds(w?.incident_end ?? ew?.incident_end),
  };
}

/** `metric{k="v",...}` as the engine writes it (labels in key order, quotes escaped). */
export function promSelector(metric: string, labels: Record<string, string>): string {
  const inner = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]!.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)
    .join(",");
  return `${metric}{${inner}}`;
}

/** A metric shift's samples as one chart series. */
export function shiftSeries(m: MetricShiftView): Series {
  const points: [number, number][] = [];
  for (const p of m.points) {
    const x = toEpochSeconds(p.at);
    if (x !== null && Number.isFinite(p.value)) points.push([x, p.value]);
  }
  points.sort((a, b) => a[0] - b[0]);
  return { name: promSelector(m.metric, m.labels), points };
}

/** Metric shifts with samples, by selector, to chart a result's metric evidence. */
export function chartedShifts(e: EvidenceView | undefined): Map<string, Series> {
  const out = new Map<string, Series>();
  for (const m of e?.metric_shifts ?? []) {
    if (!m.points.length) continue;
    const s = shiftSeries(m);
    if (s.points.length && !out.has(s.name)) out.set(s.name, s);
  }
  return out;
}

/** One suspect for display, from the evidence (richer) or the result. */
export interface SuspectRow {
  component: string;
  kind: string;
  score: number;
  reasons: string[];
  first_anomaly_at?: string;
  pods: string[];
  /** The kind of evidence behind its strongest reason (from the evidence). */
  lead?: string;
}

/**
 * The suspects to show: the result's (what the analyzer concluded, LLM or not), with
 * the evidence's details (first anomaly, pods) where the same component is there;
 * the evidence's own when the result has none. Highest score first.
 */
export function suspectRows(result: AnalysisResult | undefined, evidence: EvidenceView | undefined): SuspectRow[] {
  const found = new Map<string, SuspectView>((evidence?.suspects ?? []).map((s) => [s.component, s]));
  const base: (ResultSuspect | SuspectView)[] = result?.suspects.length ? result.suspects : (evidence?.suspects ?? []);
  return base
    .map((s): SuspectRow => {
      const e = found.get(s.component);
      return {
        component: s.component,
        kind: s.kind,
        score: s.score,
        reasons: s.reasons,
        first_anomaly_at: e?.first_anomaly_at,
        pods: e?.pods ?? [],
        lead: e?.lead ?? undefined,
      };
    })
    .sort((a, b) => b.score - a.score);
}

/** Flags of a log template, strongest first. */
export function templateFlags(t: LogTemplateView): ("new" | "bursting" | "error")[] {
  const out: ("new" | "bursting" | "error")[] = [];
  if (t.is_new) out.push("new");
  if (t.is_bursting) out.push("bursting");
  if (t.is_error_level) out.push("error");
  return out;
}

/** A rate ratio as "×78", "×1.5", "×0.25". */
export function formatRatio(r: number | null | undefined): string {
  if (r === null || r === undefined || !Number.isFinite(r)) return "—";
  if (r >= 100) return `×${Math.round(r).toLocaleString("en-US")}`;
  if (r >= 10) return `×${Math.round(r)}`;
  return `×${Number(r.toPrecision(2))}`;
}

/**
 * A metric value as the analyzer's sentences write it (`humanNumber`): 0.2956 → "0.296",
 * 41 → "41.0", 15234 → "15.2k", 105230000 → "105M".
 */
export function formatValue(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  return humanNumber(x);
}

/** A relative change as "+350%" / "−40%". */
export function formatChange(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  const p = Math.round(x * 100);
  return `${p >= 0 ? "+" : "−"}${Math.abs(p).toLocaleString("en-US")}%`;
}

/** One tool the LLM agent called (`usage.llm.tool_calls[]`). */
export interface ToolCall {
  name: string;
  /** The arguments as sent by the model (a JSON string, kept as is). */
  arguments: string;
  rows: number | null;
  ms: number | null;
  error: string | null;
}

/** What the LLM agent did (`usage.llm`); any field may be missing. */
export interface LlmUsage {
  model: string | null;
  prompt_version: string | null;
  llm_calls: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  /** prompt + completion, when either is known. */
  total_tokens: number | null;
  /** Some counts are the engine's estimate: the server did not report them. */
  tokens_estimated: boolean;
  tool_calls: ToolCall[];
  llm_ms: number | null;
  tool_ms: number | null;
  wall_ms: number | null;
  /** wall_ms − llm_ms: tool queries and our own processing (null unless both are known). */
  overhead_ms: number | null;
  repaired: boolean | null;
  redacted_values: number | null;
  /** "answered" or "fallback" (other values kept as sent). */
  outcome: string | null;
  /** Why the model's answer was not used. */
  error: string | null;
}

/** An analysis' `usage`: its run time, and the LLM agent's record when one ran. */
export interface Usage {
  /** Run time of the analysis (`seconds`), in ms. */
  ms: number | null;
  llm: LlmUsage | null;
}

function text(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

function bool(v: unknown): boolean | null {
  return typeof v === "boolean" ? v : null;
}

/** A tool call record (from `usage.llm.tool_calls[]` or a progress event's `data.tool`). */
export function parseToolCall(v: unknown): ToolCall | null {
  const o = obj(v);
  if (!o) return null;
  const args = o.arguments;
  const call: ToolCall = {
    name: text(o.name) ?? "",
    arguments: typeof args === "string" ? args : args != null && typeof args === "object" ? JSON.stringify(args) : "",
    rows: num(o.rows),
    ms: num(o.ms),
    error: text(o.error),
  };
  return call.name || call.arguments ? call : null;
}

function parseLlm(v: unknown): LlmUsage | null {
  const o = obj(v);
  if (!o) return null;
  const prompt = num(o.prompt_tokens);
  const completion = num(o.completion_tokens);
  const llmMs = num(o.llm_ms);
  const wallMs = num(o.wall_ms);
  const calls = Array.isArray(o.tool_calls) ? o.tool_calls.map(parseToolCall).filter((c): c is ToolCall => c !== null) : [];
  return {
    model: text(o.model),
    prompt_version: text(o.prompt_version),
    llm_calls: num(o.llm_calls),
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt !== null || completion !== null ? (prompt ?? 0) + (completion ?? 0) : null,
    tokens_estimated: o.tokens_estimated === true,
    tool_calls: calls,
    llm_ms: llmMs,
    tool_ms: num(o.tool_ms),
    wall_ms: wallMs,
    overhead_ms: wallMs !== null && llmMs !== null ? Math.max(0, wallMs - llmMs) : null,
    repaired: bool(o.repaired),
    redacted_values: num(o.redacted_values),
    outcome: text(o.outcome),
    error: text(o.error),
  };
}

/**
 * An analysis' `usage` (free JSON): `{seconds, llm?: {...}}`, any field possibly
 * missing (older analyses have only `seconds`). Null when there is nothing to show.
 */
export function parseUsage(v: unknown): Usage | null {
  const o = obj(v);
  if (!o) return null;
  const seconds = num(o.seconds);
  const u: Usage = { ms: seconds !== null ? seconds * 1000 : null, llm: parseLlm(o.llm) };
  return u.ms !== null || u.llm !== null ? u : null;
}

/** Tool arguments on one line (compact JSON when they parse), for a table cell. */
export function compactArgs(args: string): string {
  const x = args.trim();
  try {
    return JSON.stringify(JSON.parse(x));
  } catch {
    return x.replace(/\s+/g, " ");
  }
}

/** Tool arguments indented (when they are JSON), for the full view. */
export function prettyArgs(args: string): string {
  const x = args.trim();
  try {
    return JSON.stringify(JSON.parse(x), null, 2);
  } catch {
    return args;
  }
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

/**
 * What the summary adds to the root cause shown above it: the summary without
 * the root cause it starts with (the analyzer writes "root cause. more…"), so
 * the headline is read once; the whole summary when it does not start with it;
 * "" when it says nothing more.
 */
export function summaryAfterRootCause(r: Pick<AnalysisResult, "summary" | "root_cause">): string {
  const summary = (r.summary ?? "").trim();
  const root = (r.root_cause ?? "").trim();
  if (!root || !summary.startsWith(root)) return summary;
  return summary.slice(root.length).replace(/^[\s.。;；,，:：]+/, "").trim();
}

/** Builds the ticket description from a result: summary and suggestions. */
export function ticketDescription(r: AnalysisResult | null | undefined): string {
  if (!r) return "";
  const parts: string[] = [];
  if (r.summary) parts.push(r.summary);
  if (r.suggestions.length) parts.push(r.suggestions.map((s, i) => `${i + 1}. ${s}`).join("\n"));
  return parts.join("\n\n");
}

/** A piece of an example log line: literal text of the template, or a variable part. */
export interface LinePart {
  text: string;
  variable: boolean;
}

/**
 * Splits a real log line along its template (`<*>` marks variable parts) so the
 * variable parts can be highlighted. Template tokens are matched left to right; a
 * line that does not follow its template is one literal part.
 */
export function highlightVariables(template: string, line: string): LinePart[] {
  const literals = template.split("<*>");
  if (literals.length === 1) return [{ text: line, variable: false }];
  const parts: LinePart[] = [];
  let pos = 0;
  const first = literals[0]!;
  if (!line.startsWith(first)) return [{ text: line, variable: false }];
  if (first) parts.push({ text: first, variable: false });
  pos = first.length;
  for (let i = 1; i < literals.length; i++) {
    const lit = literals[i]!;
    const last = i === literals.length - 1;
    let end: number;
    if (last && lit === "") end = line.length;
    else if (last) {
      end = line.endsWith(lit) && line.length - lit.length >= pos ? line.length - lit.length : -1;
    } else end = lit === "" ? pos : line.indexOf(lit, pos);
    if (end < 0) return [{ text: line, variable: false }];
    if (end > pos) parts.push({ text: line.slice(pos, end), variable: true });
    if (lit) parts.push({ text: lit, variable: false });
    pos = end + lit.length;
  }
  if (pos < line.length) parts.push({ text: line.slice(pos), variable: true });
  return parts;
}
