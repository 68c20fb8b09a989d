// What the product understood of an alert (POST /api/analysis/understand, and the
// parsed alert stored with an analysis), and the engineer's corrections to it.
import dayjs from "dayjs";
import type { AnalysisOptions, AnalysisTiming } from "../api/types";

/** The engineer's corrections; unset fields keep what the alert says. */
export interface Corrections {
  /** RFC 3339. */
  starts_at?: string;
  services?: string[];
  namespace?: string;
  instances?: string[];
}

/** The corrections as analysis options (only those the engineer made). */
export function correctionOptions(c: Corrections): AnalysisOptions {
  const o: AnalysisOptions = {};
  if (c.starts_at) o.starts_at = c.starts_at;
  if (c.services) o.services = c.services.map((s) => s.trim()).filter(Boolean);
  if (c.namespace !== undefined) o.namespace = c.namespace.trim();
  if (c.instances) o.instances = c.instances.map((s) => s.trim()).filter(Boolean);
  return o;
}

/** `+08:00` for a UTC offset in minutes. */
export function zoneName(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? "-" : "+";
  const a = Math.abs(offsetMinutes);
  return `UTC${sign}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
}

/**
 * A time with its date and zone, in the browser's zone and in UTC when they differ:
 * "2023-01-29 18:05 UTC+08:00 (10:05 UTC)", or "2023-01-29 10:05 UTC".
 */
export function formatWithZone(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = dayjs(iso);
  if (!d.isValid()) return iso;
  const offset = d.utcOffset();
  const utc = new Date(d.valueOf()).toISOString();
  const utcText = `${utc.slice(0, 10)} ${utc.slice(11, 16)} UTC`;
  if (offset === 0) return utcText;
  const sameDay = d.format("YYYY-MM-DD") === utc.slice(0, 10);
  return `${d.format("YYYY-MM-DD HH:mm")} ${zoneName(offset)} (${sameDay ? utc.slice(11, 16) : utcText.slice(0, 16)} UTC)`;
}

/** "7 min before the alert" style offsets, in minutes (negative: before). */
export function minutesFrom(alertIso: string | null | undefined, iso: string | null | undefined): number | null {
  if (!alertIso || !iso) return null;
  const a = Date.parse(alertIso);
  const b = Date.parse(iso);
  if (Number.isNaN(a) || Number.isNaN(b)) return null;
  return Math.round((b - a) / 60_000);
}

/** The one duration of an analysis and its parts, from `timing`. */
export function timingParts(t: AnalysisTiming | null | undefined): { total: number; queued: number; collect: number; analyse: number } | null {
  if (!t) return null;
  return { total: t.total_ms, queued: t.queued_ms, collect: t.collect_ms, analyse: t.analyse_ms };
}

/** The scope of a stored parsed alert (`Analysis.alert`), for the top of a result. */
export function alertScope(alert: unknown): { startsAt: string | null; services: string[]; namespace: string | null; instances: string[] } {
  const o = alert && typeof alert === "object" ? (alert as Record<string, unknown>) : {};
  const scope = o.scope && typeof o.scope === "object" ? (o.scope as Record<string, unknown>) : {};
  const list = (k: string) => (Array.isArray(scope[k]) ? (scope[k] as unknown[]).filter((x): x is string => typeof x === "string") : []);
  const instances = [...list("pods"), ...list("instances"), ...list("hosts")];
  return {
    startsAt: typeof o.starts_at === "string" ? o.starts_at : null,
    services: list("services"),
    namespace: typeof scope.namespace === "string" ? scope.namespace : null,
    instances: [...new Set(instances)],
  };
}
