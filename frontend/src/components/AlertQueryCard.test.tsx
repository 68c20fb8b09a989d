import { describe, expect, it, vi } from "vitest";
import type { AlertQueryView } from "../api/types";
import { renderer } from "../test/render";

// The chart itself (uPlot, canvas) is not what these tests look at.
vi.mock("./MetricChart", () => ({ default: () => null }));
const { default: AlertQueryCard } = await import("./AlertQueryCard");

const { render } = renderer();

describe("AlertQueryCard (What paged)", () => {
  const q: AlertQueryView = {
    expr: "rate(node_disk_io_time_seconds_total[5m]) > 0.9",
    query: "rate(node_disk_io_time_seconds_total[5m])",
    threshold: { op: ">", value: 0.9 },
    source: "node-metrics",
    series: [
      {
        labels: { device: "vda", instance: "node-3:9100", job: "node" },
        baseline: 0.04,
        peak: 0.9833333333333334,
        breached_at: "2026-01-29T08:45:30Z",
        points: [{ at: "2026-01-29T08:45:30Z", value: 0.98 }],
      },
    ],
  };

  it("shows the rule as written, and the peak, threshold and baseline as the headline writes them", () => {
    const h = render(<AlertQueryCard query={q} alertStart={null} incident={null} />);
    const text = (id: string) => h.querySelector(`[data-testid=${id}]`)?.textContent ?? null;
    expect(text("paged-expr")).toBe("rate(node_disk_io_time_seconds_total[5m]) > 0.9");
    expect(h.querySelector("[data-testid=paged-expr]")!.getAttribute("data-expr")).toBe(q.expr);
    // "… peaked at 0.983; threshold > 0.900; baseline 0.0400" (oncall-core AlertQuery::sentence)
    expect(text("paged-who")).toBe("node-3:9100");
    expect(text("paged-peak")).toBe("0.983");
    expect(text("paged-threshold")).toBe("> 0.900");
    expect(text("paged-baseline")).toBe("0.0400");
    expect(text("paged-facts")).toContain("past the threshold since");
  });

  it("a rule without a threshold says no threshold", () => {
    const h = render(<AlertQueryCard query={{ ...q, expr: q.query, threshold: undefined }} alertStart={null} incident={null} />);
    expect(h.querySelector("[data-testid=paged-threshold]")).toBeNull();
    expect(h.querySelector("[data-testid=paged-expr]")!.textContent).toBe(q.query);
    expect(h.querySelector("[data-testid=paged-peak]")!.textContent).toBe("0.983");
  });
});
