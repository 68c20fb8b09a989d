import { describe, expect, it } from "vitest";
import { metricTitle } from "../lib/metricTitle";
import { renderer } from "../test/render";
import MetricTitle from "./MetricTitle";

const { render, setLang } = renderer();

describe("MetricTitle", () => {
  const labels = { namespace: "ts", pod: "ts-travel-service-6f9c8d7b5-x2x4z", node: "10.0.0.7" };
  const selector = 'rate(container_cpu_usage_seconds_total{namespace="ts",node="10.0.0.7",pod="ts-travel-service-6f9c8d7b5-x2x4z"})';

  it("says the component and what was measured first, the metric's name below, the selector behind", () => {
    const h = render(<MetricTitle title={metricTitle("container_cpu_usage_seconds_total", labels, true)} testId="t" />);
    const el = h.querySelector("[data-testid=t]")!;
    const [head, sub] = [...el.querySelectorAll(".metric-title-line")].map((l) => l.textContent);
    expect(head).toBe("ts-travel-service · CPU per second");
    expect(sub).toBe("container_cpu_usage_seconds_total");
    expect(el.getAttribute("data-selector")).toBe(selector);
    // One copy button, which copies the whole selector (not the shortened title).
    expect(el.querySelectorAll(".ant-typography-copy")).toHaveLength(1);
    expect(h.textContent).not.toContain("namespace=");
  });

  it("a metric it cannot name stays one line with its name, in Chinese too", () => {
    setLang("zh-CN");
    const h = render(<MetricTitle title={metricTitle("ts_orders_pending", { service: "ts-order" }, true)} />);
    const lines = h.querySelectorAll(".metric-title-line");
    expect(lines).toHaveLength(1);
    expect(lines[0]!.textContent).toBe("ts-order · ts_orders_pending 每秒");
    expect(lines[0]!.querySelectorAll(".ant-typography-copy")).toHaveLength(1);
  });
});
