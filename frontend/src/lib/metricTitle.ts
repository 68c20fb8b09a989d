// A metric chart's title as an on-call engineer reads it in two seconds: which
// component (service, pod's service, host; the labels oncall-core's `component_of`
// reads, in its order) and what was measured ("CPU", "Latency p90"), the metric's
// own name kept beside it and the full selector behind it.
import type { MessageKey, T } from "../i18n";
import { promSelector } from "./analysis";

/** Labels naming a service, in order of preference (oncall-core `evidence/suspects.rs`). */
const SERVICE_LABELS = ["service", "service_name", "app", "app_kubernetes_io_name", "k8s_app", "container", "deployment"];
/** Labels naming a pod. */
const POD_LABELS = ["pod", "pod_name"];
/** Labels naming a host. */
const HOST_LABELS = ["node", "nodename", "host", "hostname", "instance"];

/** Kubernetes' generated suffixes use an alphabet without vowels (nor 0, 1, 3). */
const HASH_ALPHABET = /^[bcdfghjklmnpqrstvwxz2456789]+$/;

function isHash(s: string | undefined, min: number, max: number): boolean {
  return s !== undefined && s.length >= min && s.length <= max && HASH_ALPHABET.test(s);
}

/**
 * The service a pod belongs to, as oncall-core's `service_of_pod`: its name without
 * the ReplicaSet and pod hashes (`api-7d9f8c6b5-x2x4z` → `api`) or a StatefulSet
 * ordinal (`db-0` → `db`).
 */
export function serviceOfPod(pod: string): string {
  const parts = pod.split("-");
  const n = parts.length;
  if (n >= 3 && isHash(parts[n - 1], 5, 5) && isHash(parts[n - 2], 6, 10)) return parts.slice(0, n - 2).join("-");
  if (n >= 2 && (isHash(parts[n - 1], 5, 5) || /^\d+$/.test(parts[n - 1]!))) return parts.slice(0, n - 1).join("-");
  return pod;
}

export interface Component {
  kind: "service" | "host" | "edge";
  name: string;
  /** The pod the series came from, when its labels say. */
  pod?: string;
}

/**
 * The component a series' labels describe, as the analyzer names it: a service label,
 * else the service of its pod, else its host; a service-graph
 * edge (`client`, `server`) as "client → server".
 */
export function componentOf(labels: Record<string, string>): Component | null {
  const get = (keys: string[]) => keys.map((k) => labels[k]).find((v): v is string => v !== undefined && v !== "");
  const pod = get(POD_LABELS);
  const service = get(SERVICE_LABELS);
  if (service) return { kind: "service", name: service, ...(pod ? { pod } : {}) };
  if (pod) return { kind: "service", name: serviceOfPod(pod), pod };
  if (labels.client && labels.server) return { kind: "edge", name: `${labels.client} → ${labels.server}` };
  // The host as the labels say it, port included: the analysis names a host alert's
  // subject (and suspect) `node-3:9100` so, and the title should match.
  const host = get(HOST_LABELS);
  return host ? { kind: "host", name: host } : null;
}

/** What a metric measures, by its name (first match wins), as a message key. */
const WHAT: [RegExp, MessageKey][] = [
  [/^traces_service_graph_request_failed/, "metric.failedCalls"],
  [/^traces_service_graph_.*_count$/, "metric.calls"],
  [/^traces_service_graph_request_(client|server)_seconds/, "metric.callTime"],
  [/^traces_service_graph_request_total/, "metric.calls"],
  [/cfs_throttled|throttl/, "metric.cpuThrottled"],
  [/oom/, "metric.oom"],
  [/cpu/, "metric.cpu"],
  [/memory|_rss|heap/, "metric.memory"],
  [/(network|net|nic).*(receive|_rx_|rx_bytes)|receive_bytes/, "metric.netIn"],
  [/(network|net|nic).*(transmit|_tx_|tx_bytes)|transmit_bytes/, "metric.netOut"],
  [/io_time|io_seconds|disk_busy/, "metric.diskBusy"],
  [/(disk|fs|blkio).*read/, "metric.diskRead"],
  [/(disk|fs|blkio).*writ/, "metric.diskWrite"],
  [/filesystem|disk_(usage|free|avail)|fs_(usage|limit|avail)/, "metric.diskSpace"],
  [/^node_load\d+/, "metric.load"],
  [/restart/, "metric.restarts"],
  [/(duration|latency)_seconds_count$/, "metric.requests"],
  [/latency|duration|response_time|_seconds_(sum|bucket)|:mean$/, "metric.latency"],
  [/error|fail|exception|5xx/, "metric.errors"],
  [/open_fds|file_descriptors|_fds$/, "metric.fds"],
  [/thread/, "metric.threads"],
  [/(^|_)gc_/, "metric.gc"],
  [/request|http_server|grpc_server|rpc|_calls/, "metric.requests"],
];

/** A quantile in the name: `pod_client_latency_p90_seconds` → "p90". */
function quantile(metric: string, labels: Record<string, string>): string | null {
  const m = /(?:^|_)p(\d{2,3})(?:_|$)/.exec(metric);
  if (m) return `p${m[1]}`;
  const q = Number(labels.quantile);
  return labels.quantile && Number.isFinite(q) && q > 0 && q < 1 ? `p${Math.round(q * 100)}` : null;
}

export interface MetricTitle {
  component: Component | null;
  /** What was measured, when the name says (null: the name itself is all there is). */
  what: MessageKey | null;
  /** What sets the series apart within that: a CPU mode ("iowait"), a quantile ("p90"). */
  qualifier: string | null;
  metric: string;
  rate: boolean;
  /** The full selector, as the engine writes it (`rate(...)` for a counter's rate). */
  selector: string;
}

export function metricTitle(metric: string, labels: Record<string, string>, rate: boolean | undefined): MetricTitle {
  const name = metric.toLowerCase();
  const what = WHAT.find(([re]) => re.test(name))?.[1] ?? null;
  const qualifier = what === "metric.cpu" && labels.mode ? labels.mode : quantile(name, labels);
  const sel = promSelector(metric, labels);
  return {
    component: componentOf(labels),
    what,
    qualifier,
    metric,
    rate: !!rate,
    selector: rate ? `rate(${sel})` : sel,
  };
}

/** "CPU iowait", "Latency p90", or the metric's name when nothing better is known. */
export function whatText(t: T, m: MetricTitle): string {
  const what = m.what ? t(m.what) : m.metric;
  return m.qualifier ? `${what} ${m.qualifier}` : what;
}

/** The metric's name and "per second" for a rate, said after what it measures. */
export function detailText(t: T, m: MetricTitle): string {
  const parts = m.what ? [m.metric] : [];
  if (m.rate) parts.push(t("metric.perSecond"));
  return parts.join(", ");
}

/** The whole title on one line: "ts-travel-service · CPU (container_cpu_usage_seconds_total, per second)". */
export function metricTitleText(t: T, m: MetricTitle): string {
  const detail = detailText(t, m);
  const head = m.component ? `${m.component.name} · ${whatText(t, m)}` : whatText(t, m);
  return detail ? `${head} (${detail})` : head;
}
