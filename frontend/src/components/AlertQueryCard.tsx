// "What paged": the alert rule's own expression, evaluated without its threshold over
// the baseline and the incident window, drawn before any evidence of why.
import { Card, Typography } from "antd";
import type { AlertQueryView } from "../api/types";
import { useT } from "../i18n";
import { toEpochSeconds, type Series } from "../lib/analysis";
import MetricChart from "./MetricChart";

/** Series drawn at most (the ones past the threshold come first). */
const DRAWN = 5;

function seriesName(labels: Record<string, string>, query: string): string {
  const own = Object.entries(labels).filter(([k]) => k !== "__name__");
  return own.length ? own.map(([k, v]) => `${k}=${v}`).join(", ") : query;
}

/** The alert query's series as chart series, time order. */
function pagedSeries(q: AlertQueryView): Series[] {
  return q.series.slice(0, DRAWN).map((s) => {
    const points: [number, number][] = [];
    for (const p of s.points) {
      const x = toEpochSeconds(p.at);
      if (x !== null && Number.isFinite(p.value)) points.push([x, p.value]);
    }
    points.sort((a, b) => a[0] - b[0]);
    return { name: seriesName(s.labels ?? {}, q.query), points };
  });
}

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
  const series = pagedSeries(query);
  const th = query.threshold;
  return (
    <Card size="small" style={{ height: "100%" }} title={t("analysis.paged")} data-testid="paged-chart">
      <Typography.Text className="mono selector" ellipsis title={query.expr}>
        {query.query}
        {th && <strong>{` ${th.op} ${th.value}`}</strong>}
      </Typography.Text>
      <MetricChart
        series={series}
        alertStart={alertStart}
        alertLabel={t("analysis.chartAlertStart")}
        incident={incident}
        band={th ? [th.value, th.value] : null}
        title={query.query}
        height={170}
      />
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {th ? t("analysis.pagedLegend") : t("analysis.chartLegend")}
      </Typography.Text>
    </Card>
  );
}
