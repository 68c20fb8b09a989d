import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { useLang } from "../store/lang";
import { CoverageLine, LatencyCard, SubjectCard } from "./EvidenceExtras";
import type { ResourceFindingView } from "../api/types";

let root: Root | null = null;
let host: HTMLElement | null = null;

beforeAll(() => {
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
  window.matchMedia ??= (query: string) =>
    ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => {},
      removeListener: () => {},
      addEventListener: () => {},
      removeEventListener: () => {},
      dispatchEvent: () => false,
    }) as MediaQueryList;
  const getStyle = window.getComputedStyle.bind(window);
  window.getComputedStyle = (elt: Element) => getStyle(elt);
});

beforeEach(() => useLang.setState({ lang: "en" }));

afterEach(() => {
  act(() => root?.unmount());
  host?.remove();
  root = null;
  host = null;
});

function render(node: React.ReactNode): HTMLElement {
  host = document.createElement("div");
  document.body.appendChild(host);
  root = createRoot(host);
  act(() => root!.render(node));
  return host;
}

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
    expect(first.querySelector("[data-testid=finding-change]")!.textContent).toBe("1.5M/s → 98M/s");
    expect(first.querySelector("[data-testid=finding-since]")!.textContent).toBe("since 3 min before the alert");
    expect(first.textContent).toContain('rate(node_disk_written_bytes_total{instance="node-3:9100"})');
    expect(first.textContent).toContain("3 series");
    expect(rows[2]!.querySelector("[data-testid=finding-change]")!.textContent).toBe("8G → 200M");
    act(() => (h.querySelector("[data-testid=show-all]") as HTMLButtonElement).click());
    expect(h.querySelectorAll("[data-testid=subject-finding]")).toHaveLength(4);
  });

  it("follows the language", () => {
    useLang.setState({ lang: "zh-CN" });
    const h = render(<SubjectCard subject={{ component: "node-3", findings: [finding("memory", "node_memory_MemAvailable_bytes")] }} alertAt="2026-01-29T08:44:00Z" />);
    expect(h.textContent).toContain("node-3 上发生了什么变化");
    expect(h.querySelector("[data-testid=finding-resource]")!.textContent).toBe("内存");
    expect(h.textContent).toContain("告警前 3 分钟");
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
    act(() => root!.render(<CoverageLine coverage={undefined} window={null} />));
    expect(h.querySelector("[data-testid=coverage]")).toBeNull();
  });
});
