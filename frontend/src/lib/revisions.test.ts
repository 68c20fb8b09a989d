import { describe, expect, it } from "vitest";
import type { Analysis } from "../api/types";
import { evidenceKey, revisionDiff } from "./revisions";

const run = (revision: number, rootCause: string, suspects: string[], details: string[]): Analysis =>
  ({
    id: "a",
    revision,
    result: {
      root_cause: rootCause,
      summary: "",
      confidence: 0.5,
      severity: "P2",
      suggestions: [],
      suspects: suspects.map((component, i) => ({ component, kind: "service", score: 1 - i / 10, reasons: [] })),
      evidence: details.map((detail) => ({ kind: "log", source: "logs", detail })),
    },
  }) as unknown as Analysis;

describe("what changed between runs", () => {
  it("says the headline, the top three's moves, and the evidence that came or went", () => {
    const before = run(1, "cart got slower", ["cart", "catalog", "frontend", "ads"], ["burst of X: 3 in the incident window", "new template Y: 2"]);
    const now = run(2, "catalog got slower", ["catalog", "cart", "payment"], ["burst of X: 19 in the incident window", "error origin Z: 7"]);
    const d = revisionDiff(before, now);
    expect(d.headlineChanged).toBe(true);
    expect([d.headlineBefore, d.headlineNow]).toEqual(["cart got slower", "catalog got slower"]);
    expect(d.suspects).toEqual([
      { component: "catalog", before: 2, now: 1 },
      { component: "cart", before: 1, now: 2 },
      { component: "payment", before: null, now: 3 },
      { component: "frontend", before: 3, now: null },
    ]);
    // The same finding counted again is neither new nor gone.
    expect(d.added.map((e) => e.detail)).toEqual(["error origin Z: 7"]);
    expect(d.removed.map((e) => e.detail)).toEqual(["new template Y: 2"]);
  });
  it("finds nothing changed between equal runs", () => {
    const a = run(1, "x", ["a", "b"], ["p: 1"]);
    const d = revisionDiff(a, { ...a, revision: 2 } as Analysis);
    expect(d.headlineChanged).toBe(false);
    expect(d.added).toEqual([]);
    expect(d.removed).toEqual([]);
    expect(d.suspects.every((s) => s.before === s.now)).toBe(true);
    expect(evidenceKey({ kind: "metric", source: "m", detail: "rose from 0.2 to 1,234.5 since 08:42:00" })).toBe("metric|m|rose from # to # since #");
  });
});
