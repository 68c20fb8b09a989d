import { describe, expect, it } from "vitest";
import { translate, type MessageKey } from "../i18n";
import { componentOf, metricTitle, metricTitleText, serviceOfPod } from "./metricTitle";

const en = (k: MessageKey, v?: Record<string, string | number>) => translate("en", k, v);
const zh = (k: MessageKey, v?: Record<string, string | number>) => translate("zh-CN", k, v);

describe("the component a series is about (as oncall-core's component_of)", () => {
  it("prefers a service label, in the backend's order, over the pod and the host", () => {
    expect(componentOf({ pod: "ts-travel-service-6f9c8d7b5-x2x4z", node: "n1", container: "travel", app: "ts-travel" })).toEqual({
      kind: "service",
      name: "ts-travel",
      pod: "ts-travel-service-6f9c8d7b5-x2x4z",
    });
    expect(componentOf({ service_name: "b", app: "c", service: "a" })?.name).toBe("a");
    expect(componentOf({ deployment: "d", k8s_app: "k" })?.name).toBe("k");
  });
  it("takes the service of the pod when no label names one", () => {
    expect(componentOf({ namespace: "ts", pod: "ts-travel-service-6f9c8d7b5-x2x4z", node: "n1" })).toEqual({
      kind: "service",
      name: "ts-travel-service",
      pod: "ts-travel-service-6f9c8d7b5-x2x4z",
    });
    expect(serviceOfPod("db-0")).toBe("db");
    expect(serviceOfPod("cache")).toBe("cache");
    // Real words are not hashes: vowels never occur in generated suffixes.
    expect(serviceOfPod("api-cache")).toBe("api-cache");
  });
  it("else the host (as the analysis names it, port included); a service-graph edge as client → server", () => {
    expect(componentOf({ instance: "node-3:9100", job: "node" })).toEqual({ kind: "host", name: "node-3:9100" });
    expect(componentOf({ nodename: "h1", instance: "10.0.0.1:9100" })?.name).toBe("h1");
    expect(componentOf({ client: "cart", server: "catalog", namespace: "x" })).toEqual({ kind: "edge", name: "cart → catalog" });
    expect(componentOf({ job: "x", service: "" })).toBeNull();
  });
});

describe("a metric chart's title", () => {
  it("says the component and what was measured, then the metric and 'per second' for a rate", () => {
    const labels = { namespace: "ts", pod: "ts-travel-service-6f9c8d7b5-x2x4z", node: "10.0.0.7" };
    const m = metricTitle("container_cpu_usage_seconds_total", labels, true);
    expect(metricTitleText(en, m)).toBe("ts-travel-service · CPU (container_cpu_usage_seconds_total, per second)");
    expect(metricTitleText(zh, m)).toBe("ts-travel-service · CPU (container_cpu_usage_seconds_total, 每秒)");
    expect(m.selector).toBe('rate(container_cpu_usage_seconds_total{namespace="ts",node="10.0.0.7",pod="ts-travel-service-6f9c8d7b5-x2x4z"})');
  });
  it.each([
    ["pod_client_latency_p90_seconds", { service: "ts-food-service" }, false, "ts-food-service · Latency p90 (pod_client_latency_p90_seconds)"],
    ["node_cpu_seconds_total", { instance: "node-3:9100", mode: "iowait", cpu: "0" }, true, "node-3:9100 · CPU iowait (node_cpu_seconds_total, per second)"],
    ["node_disk_written_bytes_total", { instance: "node-3:9100", device: "vda" }, true, "node-3:9100 · Disk writes (node_disk_written_bytes_total, per second)"],
    ["node_disk_io_time_seconds_total", { instance: "node-3:9100" }, true, "node-3:9100 · Disk busy time (node_disk_io_time_seconds_total, per second)"],
    ["container_memory_working_set_bytes", { container: "api" }, false, "api · Memory (container_memory_working_set_bytes)"],
    ["container_network_receive_bytes_total", { pod: "api-0" }, true, "api · Network in (container_network_receive_bytes_total, per second)"],
    ["node_load1", { instance: "h" }, false, "h · Load (node_load1)"],
    ["http_request_duration_seconds:mean", { service: "cart" }, false, "cart · Latency (http_request_duration_seconds:mean)"],
    ["http_request_duration_seconds_count", { service: "cart" }, true, "cart · Requests (http_request_duration_seconds_count, per second)"],
    ["traces_service_graph_request_client_seconds:mean", { client: "cart", server: "catalog" }, false, "cart → catalog · Call time (traces_service_graph_request_client_seconds:mean)"],
    ["traces_service_graph_request_failed_total", { client: "cart", server: "catalog" }, true, "cart → catalog · Failed calls (traces_service_graph_request_failed_total, per second)"],
    ["kube_pod_container_status_restarts_total", { container: "api" }, false, "api · Restarts (kube_pod_container_status_restarts_total)"],
    // Unknown metrics keep their name; no component, no dot.
    ["ts_orders_pending", { service: "ts-order" }, false, "ts-order · ts_orders_pending"],
    ["ts_orders_pending", {}, true, "ts_orders_pending (per second)"],
  ])("%s %j", (metric, labels, rate, text) => expect(metricTitleText(en, metricTitle(metric, labels, rate))).toBe(text));
});
