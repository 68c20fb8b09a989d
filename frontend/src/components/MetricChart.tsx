// A small line chart of metric series with the alert start and the incident window
// marked. uPlot is loaded only when a chart is shown (its own chunk).
import { lazy, Suspense } from "react";
import { Skeleton } from "antd";
import type { Series } from "../lib/analysis";

const Impl = lazy(() => import("./MetricChartImpl"));

export interface MetricChartProps {
  series: Series[];
  /** Epoch seconds. */
  alertStart: number | null;
  alertLabel: string;
  /** The incident window, epoch seconds, shaded. */
  incident?: [number, number] | null;
  /** The baseline's usual range (median ± spread), drawn as a horizontal band. */
  band?: [number, number] | null;
  /** Accessible description of the chart. */
  title?: string;
  height?: number;
}

export default function MetricChart(props: MetricChartProps) {
  if (!props.series.some((s) => s.points.length)) return null;
  return (
    <Suspense fallback={<Skeleton.Node active style={{ width: "100%", height: props.height ?? 160 }} />}>
      <Impl {...props} />
    </Suspense>
  );
}
