import { act } from "react";
import { describe, expect, it } from "vitest";
import { renderer } from "../test/render";
import { CoverageLine, LatencyCard, NoServiceGraph, ServiceGraphCard, SubjectCard } from "./EvidenceExtras";
import type { ResourceFindingView, ServiceGraphView } from "../api/types";

const { render, rerender, setLang } = renderer();

const finding = (resource: ResourceFindingView["resource"], metric: string, over: Partial<ResourceFindingView> = {}): ResourceFindingView => ({
  resource,
  metric,
  labels: { instance: "node-3:9100" },
  rate: false,
  baseline: 0.2,
  peak: 0.97,
  direction: "up",
  effect: 3.8,
  started_at: "2026-01-29T08:41:00Z",
  series: 1,
  ...over,
});

describe("SubjectCard", () => {
  const subject = {
    component: "node-3",
    findings: [
      finding("disk", "node_disk_written_bytes_total", { rate: true, baseline: 1.5e6, peak: 9.8e7, series: 3 }),
      finding("cpu", "node_load1"),
      finding("memory", "node_memory_MemAvailable_bytes", { direction: "down", baseline: 8e9, peak: 2e8 }),
      finding("network", "node_network_receive_bytes_total", { rate: true }),
    ],
  };

  it("says what changed on the host: resource, baseline → peak with units, since when, the series", () => {
    const h = render(<SubjectCard subject={subject} alertAt="2026-01-29T08:44:00Z" />);
    expect(h.textContent).toContain("What changed on node-3");
    const rows = h.querySelectorAll("[data-testid=subject-finding]");
    expect(rows).toHaveLength(3); // the rest behind "show all"
    const first = rows[0]!;
    expect(first.querySelector("[data-testid=finding-resource]")!.textContent).toBe("Disk");
    expect(first.querySelector("[data-testid=finding-change]")!.textContent).toBe("1.50M/s → 98.0M/s");
    expect(first.querySelector("[data-testid=finding-since]")!.textContent).toBe("since 3 min before the alert");
    // The subject's own label is said once, in the title; the rows tell their series apart.
    expect(h.querySelector("[data-testid=subject-labels]")!.textContent).toBe('instance="node-3:9100"');
    expect(first.querySelector("[data-testid=finding-series]")!.textContent).toBe("rate(node_disk_written_bytes_total)");
    expect(h.querySelectorAll("[data-testid=subject-finding]")[1]!.querySelector("[data-testid=finding-series]")!.textContent).toBe("node_load1");
    expect(h.querySelector("[data-testid=subject-findings]")!.textContent!.match(/instance=/g)).toHaveLength(1);
    expect(first.textContent).toContain("3 series");
    expect(rows[2]!.querySelector("[data-testid=finding-change]")!.textContent).toBe("8.00G → 200M");
    act(() => (h.querySelector("[data-testid=show-all]") as HTMLButtonElement).click());
    expect(h.querySelectorAll("[data-testid=subject-finding]")).toHaveLength(4);
  });

  it("follows the language", () => {
    setLang("zh-CN");
    const h = render(<SubjectCard subject={{ component: "node-3", findings: [finding("memory", "node_memory_MemAvailable_bytes")] }} alertAt="2026-01-29T08:44:00Z" />);
    expect(h.textContent).toContain("node-3 上发生了什么变化");
    expect(h.querySelector("[data-testid=finding-resource]")!.textContent).toBe("内存");
    expect(h.textContent).toContain("告警前 3 分钟");
  });
});

describe("SubjectCard labels", () => {
  it("keeps what tells series apart, and an instance the findings disagree on", () => {
    const h = render(
      <SubjectCard
        subject={{
          component: "node-3",
          findings: [
            finding("disk", "node_disk_io_time_seconds_total", { labels: { instance: "node-3:9100", job: "node", device: "vda" }, rate: true }),
            finding("cpu", "node_load1", { labels: { instance: "node-3:9101", job: "node" } }),
          ],
        }}
        alertAt={null}
      />,
    );
    expect(h.querySelector("[data-testid=subject-labels]")!.textContent).toBe('job="node"');
    const series = [...h.querySelectorAll("[data-testid=finding-series]")].map((x) => x.textContent);
    expect(series).toEqual(['rate(node_disk_io_time_seconds_total{device="vda",instance="node-3:9100"})', 'node_load1{instance="node-3:9101"}']);
  });
});

describe("ServiceGraphCard", () => {
  const graph: ServiceGraphView = {
    source: "tempo",
    edges: 12,
    anomalous: [
      { client: "frontend", server: "checkout", what: "latency", baseline: 0.04, incident: 0.09, z: 40 },
      { client: "checkout", server: "payment", what: "latency", baseline: 0.012, incident: 0.84, z: 31 },
      { client: "checkout", server: "payment", what: "errors", baseline: 0.002, incident: 0.35, z: 20 },
      { client: "cart", server: "redis", what: "network", baseline: 0.001, incident: 0.05, z: 9 },
    ],
    suspects: [{ service: "payment", score: 1, incoming: [], reached_from_alert: true }],
  };

  it("lists caller → callee, what changed, before → now; edges into the suspect first and marked", () => {
    const h = render(<ServiceGraphCard graph={graph} />);
    expect(h.textContent).toContain("Calls between services");
    expect(h.textContent).toContain("edges of the Tempo service graph that went wrong, 12 judged");
    expect(h.querySelector("[data-testid=graph-leads-to]")!.textContent).toBe("leads topayment");
    const rows = [...h.querySelectorAll("[data-testid=graph-edge]")];
    expect(rows).toHaveLength(3); // the fourth behind "show all"
    const cells = (r: Element) => [
      r.querySelector("[data-testid=graph-edge-step]")!.textContent,
      r.querySelector("[data-testid=graph-edge-what]")!.textContent,
      r.querySelector("[data-testid=graph-edge-change]")!.textContent,
      r.getAttribute("data-leads"),
    ];
    expect(rows.map(cells)).toEqual([
      ["checkout→ payment", "slower at the callee", "12 ms → 840 ms ×70", "true"],
      ["checkout→ payment", "more calls failed", "0.2% → 35%", "true"],
      ["frontend→ checkout", "slower at the callee", "40 ms → 90 ms ×2.3", "false"],
    ]);
    act(() => (h.querySelector("[data-testid=show-all]") as HTMLButtonElement).click());
    const last = [...h.querySelectorAll("[data-testid=graph-edge]")][3]!;
    expect(cells(last)).toEqual(["cart→ redis", "slower on the wire", "1 ms → 50 ms ×50", "false"]);
  });

  it("says when no edge went wrong, and follows the language", () => {
    setLang("zh-CN");
    const h = render(<ServiceGraphCard graph={{ source: "istio", edges: 5, anomalous: [], suspects: [] }} />);
    expect(h.textContent).toContain("服务之间的调用");
    expect(h.textContent).toContain("所有调用边都在平常范围内。");
    expect(h.querySelector("[data-testid=graph-leads-to]")).toBeNull();
  });
});

describe("NoServiceGraph", () => {
  it("says where calls came from instead, or that there were none", () => {
    const h = render(<NoServiceGraph traceLines={2400} />);
    expect(h.textContent).toContain("calls between services were read from the trace ids");
    rerender(<NoServiceGraph traceLines={0} />);
    expect(h.textContent).toContain("No call graph");
    expect(h.textContent).toContain("ranked by their own changes");
  });
});

describe("LatencyCard", () => {
  it("shows each slowed step caller → callee with baseline → incident time and requests", () => {
    const h = render(
      <LatencyCard
        latency={[
          {
            service: "ts-route-service",
            ochiai: 0.9,
            edges: 3,
            slowed: [{ caller: "ts-travel-service", callee: "ts-route-service", baseline_ms: 12, incident_ms: 840, z: 31, requests: 1234 }],
          },
        ]}
      />,
    );
    expect(h.textContent).toContain("Requests got slower");
    expect(h.querySelector("[data-testid=latency-step]")!.textContent).toBe("ts-travel-service→ ts-route-service");
    expect(h.querySelector("[data-testid=latency-time]")!.textContent).toBe("12 ms → 840 ms ×70");
    expect(h.textContent).toContain("1,234");
  });

  it("shows nothing when no step slowed", () => {
    const h = render(<LatencyCard latency={[{ service: "a", ochiai: 0, edges: 2, slowed: [] }]} />);
    expect(h.querySelector("[data-testid=latency]")).toBeNull();
  });
});

describe("CoverageLine", () => {
  it("says how much data there was, and nothing without coverage", () => {
    const h = render(
      <CoverageLine
        coverage={{ series_judged: 850, series_without_baseline: 0, counters_as_rates: 120, duplicate_series: 0 }}
        window={null}
      />,
    );
    expect(h.querySelector("[data-testid=coverage]")!.textContent).toBe("Data coverage: 850 series judged · 120 counters as rates");
    rerender(<CoverageLine coverage={{ series_judged: 3, series_without_baseline: 0, counters_as_rates: 0, duplicate_series: 0, trace_lines: 0 }} window={null} logLines={500} />);
    expect(h.querySelector("[data-testid=coverage]")!.textContent).toBe("Data coverage: no trace ids in the logs · 3 series judged");
    rerender(<CoverageLine coverage={undefined} window={null} />);
    expect(h.querySelector("[data-testid=coverage]")).toBeNull();
  });
});
