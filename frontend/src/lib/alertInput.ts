// What the analysis form sends: a JSON object when the pasted text is one
// (Alertmanager/Grafana webhook payload), else the text itself.
import type { AnalysisOptions, SubmitAnalysis } from "../api/types";

export function parseAlertInput(text: string): { alert: string | Record<string, unknown>; json: boolean } {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      const v: unknown = JSON.parse(trimmed);
      if (v && typeof v === "object" && !Array.isArray(v)) return { alert: v as Record<string, unknown>, json: true };
    } catch {
      // Not valid JSON: send it as text and let the server's parser read it.
    }
  }
  return { alert: trimmed, json: false };
}

export interface AnalyzeFormOptions {
  llm?: boolean;
  language?: "zh" | "en" | "auto";
  baseline_minutes?: number | null;
  incident_minutes?: number | null;
}

export function buildSubmission(text: string, o: AnalyzeFormOptions, llmAvailable: boolean): SubmitAnalysis {
  const options: AnalysisOptions = {};
  if (llmAvailable && o.llm !== undefined) options.llm = o.llm;
  if (o.language && o.language !== "auto") options.language = o.language;
  if (o.baseline_minutes) options.baseline_minutes = o.baseline_minutes;
  if (o.incident_minutes) options.incident_minutes = o.incident_minutes;
  const s: SubmitAnalysis = { alert: parseAlertInput(text).alert };
  if (Object.keys(options).length) s.options = options;
  return s;
}

export const SAMPLE_TEXT =
  "[FIRING] HighErrorRate service=checkout-api env=prod severity=critical\n" +
  "checkout-api 5xx error rate is 12.4% (threshold 5%) for 5m on pod checkout-api-7d9f8c-xk2lp";

export const SAMPLE_TEXT_ZH =
  "【告警】订单服务 order-service 接口错误率过高：5 分钟内 5xx 比例 12.4%（阈值 5%），实例 10.0.3.17:8080，级别 P1";

export function sampleAlertmanager(now = new Date()): string {
  const startsAt = new Date(now.getTime() - 5 * 60_000).toISOString();
  return JSON.stringify(
    {
      receiver: "oncall",
      status: "firing",
      alerts: [
        {
          status: "firing",
          labels: {
            alertname: "HighErrorRate",
            service: "checkout-api",
            namespace: "prod",
            pod: "checkout-api-7d9f8c-xk2lp",
            severity: "critical",
          },
          annotations: {
            summary: "checkout-api 5xx error rate above 5%",
            description: "5xx ratio is 12.4% over the last 5 minutes",
          },
          startsAt,
          endsAt: "0001-01-01T00:00:00Z",
          generatorURL: "http://prometheus:9090/graph?g0.expr=job%3Ahttp_5xx_ratio%3Arate5m+%3E+0.05",
          fingerprint: "c0ffee0123456789",
        },
      ],
      groupLabels: { alertname: "HighErrorRate" },
      commonLabels: { alertname: "HighErrorRate", service: "checkout-api", severity: "critical" },
      commonAnnotations: {},
      externalURL: "http://alertmanager:9093",
      version: "4",
      groupKey: '{}:{alertname="HighErrorRate"}',
    },
    null,
    2,
  );
}
