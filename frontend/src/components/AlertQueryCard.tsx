// "What paged": the alert rule's own expression, evaluated without its threshold over
// the baseline and the incident window, drawn before any evidence of why, with the
// numbers the headline says about it (peak, threshold, baseline) written as it writes them.
import { Card, Typography } from "antd";
import type { AlertQueryView } from "../api/types";
import { useT } from "../i18n";
import { pagedFacts, pagedSeries } from "../lib/alertQuery";
import { formatTime } from "../lib/format";
import MetricChart from "./MetricChart";

/** Series drawn at most (the ones past the threshold come first). */
const DRAWN = 5;

export default function AlertQueryCard({
  query,
  alertStart,
  incident,
}: {
  query: AlertQueryView;
  alertStart: number | null;
  incident: [number, number] | null;
}) {
  const t = useT();
  const series = pagedSeries(query, DRAWN);
  const th = query.threshold;
  const f = pagedFacts(query);
  return (
    <Card size="small" style={{ height: "100%" }} title={t("analysis.paged")} data-testid="paged-chart">
      <Typography.Paragraph
        className="mono selector"
        ellipsis={{ rows: 2, tooltip: <span className="mono wrap-anywhere">{query.expr}</span> }}
        copyable={{ text: query.expr }}
        style={{ display: "block", marginBottom: 0 }}
        data-testid="paged-expr"
        data-expr={query.expr}
      >
        {query.query}
        {th && <strong>{` ${th.op} ${th.value}`}</strong>}
      </Typography.Paragraph>
      <div className="shift-facts" data-testid="paged-facts">
        {f.who && <strong data-testid="paged-who">{f.who}</strong>}
        {f.peak !== null && (
          <span>
            <Typography.Text type="secondary">{t("analysis.peak")}</Typography.Text> <strong data-testid="paged-peak">{f.peak}</strong>
          </span>
        )}
        {f.threshold !== null && (
          <span>
            <Typography.Text type="secondary">{t("analysis.pagedThreshold")}</Typography.Text> <span data-testid="paged-threshold">{f.threshold}</span>
          </span>
        )}
        {f.baseline !== null && (
          <span>
            <Typography.Text type="secondary">{t("analysis.baselineMedian")}</Typography.Text> <span data-testid="paged-baseline">{f.baseline}</span>
          </span>
        )}
        {f.breachedAt && <Typography.Text type="secondary">{t("analysis.pagedSince", { time: formatTime(f.breachedAt) })}</Typography.Text>}
      </div>
      <MetricChart
        series={series}
        alertStart={alertStart}
        alertLabel={t("analysis.chartAlertStart")}
        incident={incident}
        band={th ? [th.value, th.value] : null}
        title={query.expr}
        height={170}
      />
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {th ? t("analysis.pagedLegend") : t("analysis.chartLegend")}
      </Typography.Text>
    </Card>
  );
}
