// The analyzer's accuracy on resolved tickets (GET /api/stats/accuracy) and the
// confirmation sent when resolving a ticket.
import type { ResultSuspect } from "../api/types";

/** Bounds the server enforces on a ticket's confirmation (oncall-core `tickets`). */
export const CONFIRMED_ROOT_CAUSE_MAX = 253;
export const RESOLUTION_MAX = 2000;

/** The analysis' suspects' names, ranked, without blanks or repeats. */
export function suspectNames(suspects: ResultSuspect[] | null | undefined): string[] {
  const out: string[] = [];
  for (const s of suspects ?? []) {
    const name = s.component?.trim();
    if (name && !out.includes(name)) out.push(name);
  }
  return out;
}

/** A share 0..1 as a whole percentage, "—" when there is none. */
export function formatShare(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return "—";
  return `${Math.round(share * 100)}%`;
}

/** `since`/`until` query values for the last `months` whole months up to now (UTC). */
export function monthsRange(months: number | null, now: Date = new Date()): { since?: string } {
  if (months === null) return {};
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (months - 1), 1));
  return { since: start.toISOString() };
}
