// What changed between two runs (revisions) of an analysis: the headline, the top
// suspects, and the evidence items that came or went.
import type { Analysis, ResultEvidence } from "../api/types";

/** A suspect's place in two runs (null: not among the first three there). */
export interface SuspectMove {
  component: string;
  before: number | null;
  now: number | null;
}

/** The difference between an earlier run and a later one. */
export interface RevisionDiff {
  headlineBefore: string;
  headlineNow: string;
  headlineChanged: boolean;
  /** The first three suspects of either run, in the later run's order first. */
  suspects: SuspectMove[];
  added: ResultEvidence[];
  removed: ResultEvidence[];
}

/** How many suspects the comparison looks at. */
export const TOP_SUSPECTS = 3;

/**
 * An evidence item's identity across runs: its kind, source and text with the
 * numbers left out ("19 in the incident window" and "23 in the incident window"
 * are the same finding, counted again).
 */
export function evidenceKey(e: Pick<ResultEvidence, "kind" | "source" | "detail">): string {
  return `${e.kind}|${e.source}|${e.detail.replace(/\d+(?:[.,:]\d+)*/g, "#")}`;
}

function top(a: Analysis): string[] {
  return (a.result?.suspects ?? [])
    .slice()
    .sort((x, y) => y.score - x.score)
    .slice(0, TOP_SUSPECTS)
    .map((s) => s.component);
}

/** What changed from `before` to `now`. */
export function revisionDiff(before: Analysis, now: Analysis): RevisionDiff {
  const b = top(before);
  const n = top(now);
  const suspects: SuspectMove[] = [...n, ...b.filter((c) => !n.includes(c))].map((component) => ({
    component,
    before: b.includes(component) ? b.indexOf(component) + 1 : null,
    now: n.includes(component) ? n.indexOf(component) + 1 : null,
  }));
  const beforeItems = before.result?.evidence ?? [];
  const nowItems = now.result?.evidence ?? [];
  const beforeKeys = new Set(beforeItems.map(evidenceKey));
  const nowKeys = new Set(nowItems.map(evidenceKey));
  const headlineBefore = before.result?.root_cause ?? "";
  const headlineNow = now.result?.root_cause ?? "";
  return {
    headlineBefore,
    headlineNow,
    headlineChanged: headlineBefore !== headlineNow,
    suspects,
    added: nowItems.filter((e) => !beforeKeys.has(evidenceKey(e))),
    removed: beforeItems.filter((e) => !nowKeys.has(evidenceKey(e))),
  };
}
