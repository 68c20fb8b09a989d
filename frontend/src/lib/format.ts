// Formatting of times, durations and numbers. Times arrive as RFC 3339 UTC and are
// shown in the browser's local time zone.
import dayjs from "dayjs";

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = dayjs(iso);
  return d.isValid() ? d.format("YYYY-MM-DD HH:mm:ss") : iso;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = dayjs(iso);
  return d.isValid() ? d.format("HH:mm:ss") : iso;
}

/** 850 → "850 ms", 1234 → "1.2 s", 125000 → "2 min 5 s", 7384000 → "2 h 3 min". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const totalS = Math.round(s);
  const m = Math.floor(totalS / 60);
  if (m < 60) {
    const rs = totalS % 60;
    return rs ? `${m} min ${rs} s` : `${m} min`;
  }
  const h = Math.floor(m / 60);
  const rm = m % 60;
  return rm ? `${h} h ${rm} min` : `${h} h`;
}

/** Milliseconds from `start` to `end` (or null when either is missing or invalid). */
export function elapsedMs(start: string | null | undefined, end: string | null | undefined): number | null {
  if (!start || !end) return null;
  const a = Date.parse(start);
  const b = Date.parse(end);
  if (Number.isNaN(a) || Number.isNaN(b) || b < a) return null;
  return b - a;
}

/** A 0..1 ratio as a whole percentage; values above 1 are taken as percentages already. */
export function formatPercent(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  const p = x > 1 ? x : x * 100;
  return `${Math.round(Math.min(100, Math.max(0, p)))}%`;
}

/** 1234567 → "1,234,567". */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  return Math.round(n).toLocaleString("en-US");
}

/**
 * A number as the analyzer writes it in its sentences (oncall-core's `human_number`),
 * so the page and the headline read the same: k from 10 000, then M, G, T; no decimals
 * from 100 (and for 0), one from 10, two from 1, three significant digits below 1;
 * ties rounded to even as Rust does. 105230000 → "105M", 16.342 → "16.3",
 * 2.5 → "2.50", 0.0512 → "0.0512", 1234 → "1234", 15234 → "15.2k".
 */
export function humanNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  const a = Math.abs(v);
  const [scaled, suffix] = a >= 1e12 ? [a / 1e12, "T"] : a >= 1e9 ? [a / 1e9, "G"] : a >= 1e6 ? [a / 1e6, "M"] : a >= 1e4 ? [a / 1e3, "k"] : [a, ""];
  const digits =
    scaled === 0 || scaled >= 100 ? 0 : scaled >= 10 ? 1 : scaled >= 1 ? 2 : Math.min(8, Math.max(2, 2 - Math.floor(Math.log10(scaled))));
  const negative = v < 0 || Object.is(v, -0);
  return `${negative ? "-" : ""}${toFixedHalfEven(scaled, digits)}${suffix}`;
}

/** `x.toFixed(digits)` for x ≥ 0, but an exact tie goes to the even digit (JavaScript rounds it up). */
function toFixedHalfEven(x: number, digits: number): string {
  const up = x.toFixed(digits);
  // The exact decimal expansion: a tie is a 5 and nothing after it.
  const exact = x.toFixed(Math.min(100, digits + 30));
  const cut = exact.length - 30;
  if (exact[cut] !== "5" || !/^50*$/.test(exact.slice(cut))) return up;
  const kept = exact.slice(0, cut);
  const last = kept.replace(".", "").slice(-1);
  return Number(last) % 2 === 0 ? kept.replace(/\.$/, "") : up;
}

/** A compact number for chart axes: 1520 → "1.52k", 0.00042 → "0.00042". */
export function formatCompact(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1e9) return `${trim(n / 1e9)}G`;
  if (a >= 1e6) return `${trim(n / 1e6)}M`;
  if (a >= 1e3) return `${trim(n / 1e3)}k`;
  if (a === 0 || a >= 0.01) return trim(n);
  return String(Number(n.toPrecision(2)));
}

function trim(n: number): string {
  return String(Number(n.toFixed(2)));
}

/** First line of `s`, shortened to `max` characters. */
export function oneLine(s: string | null | undefined, max = 120): string {
  if (!s) return "";
  const line = s.split(/\r?\n/).find((l) => l.trim()) ?? "";
  const t = line.trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}
