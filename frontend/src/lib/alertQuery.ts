// The alert rule's own expression ("What paged"), read for display: its series named
// by component, and the numbers the headline's sentence on it says (oncall-core's
// `AlertQuery::sentence`: the first series' peak, the threshold, the baseline, since
// when it was past the threshold), written the same way.
import type { AlertQueryView } from "../api/types";
import { toEpochSeconds, type Series } from "./analysis";
import { humanNumber } from "./format";
import { componentOf } from "./metricTitle";

/** A series of the expression: its component when its labels name one, else its labels, else the query. */
export function alertSeriesName(labels: Record<string, string>, query: string): string {
  const c = componentOf(labels);
  if (c) return c.name;
  const own = Object.entries(labels).filter(([k]) => k !== "__name__");
  return own.length ? own.map(([k, v]) => `${k}=${v}`).join(", ") : query;
}

/** The expression's first `max` series as chart series, time order. */
export function pagedSeries(q: AlertQueryView, max: number): Series[] {
  return q.series.slice(0, max).map((s) => {
    const points: [number, number][] = [];
    for (const p of s.points) {
      const x = toEpochSeconds(p.at);
      if (x !== null && Number.isFinite(p.value)) points.push([x, p.value]);
    }
    points.sort((a, b) => a[0] - b[0]);
    return { name: alertSeriesName(s.labels ?? {}, q.query), points };
  });
}

/** What the headline says about what paged, each number as it writes it. */
export interface PagedFacts {
  /** The first series' own labels, when it has any. */
  who: string | null;
  peak: string | null;
  /** "> 0.500" */
  threshold: string | null;
  baseline: string | null;
  /** Since when the rule's condition held (RFC 3339). */
  breachedAt: string | null;
}

export function pagedFacts(q: AlertQueryView): PagedFacts {
  const s = q.series[0];
  const own = Object.keys(s?.labels ?? {}).filter((k) => k !== "__name__");
  const num = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? null : humanNumber(v));
  return {
    who: s && own.length ? alertSeriesName(s.labels, q.query) : null,
    peak: num(s?.peak),
    threshold: q.threshold ? `${q.threshold.op} ${humanNumber(q.threshold.value)}` : null,
    baseline: num(s?.baseline),
    breachedAt: s?.breached_at ?? null,
  };
}
