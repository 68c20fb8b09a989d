import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { formatCompact } from "../lib/format";
import { alignSeries } from "../lib/chart";
import type { MetricChartProps } from "./MetricChart";

const COLORS = ["#1677ff", "#fa541c", "#52c41a", "#722ed1", "#faad14", "#13c2c2"];

export default function MetricChartImpl({ series, alertStart, alertLabel, height = 160 }: MetricChartProps) {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const shown = series.filter((s) => s.points.length).slice(0, COLORS.length);
    const data = alignSeries(shown);
    const marker: uPlot.Plugin = {
      hooks: {
        draw: (u) => {
          if (alertStart === null) return;
          const x = u.valToPos(alertStart, "x", true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = "#ff4d4f";
          ctx.setLineDash([4, 3]);
          ctx.lineWidth = 1.5 * devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.setLineDash([]);
          ctx.fillStyle = "#ff4d4f";
          ctx.font = `${11 * devicePixelRatio}px sans-serif`;
          ctx.fillText(alertLabel, x + 4 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
          ctx.restore();
        },
      },
    };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: shown.length > 1 },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: "#8c8c8c", grid: { stroke: "#f0f0f0" }, ticks: { stroke: "#f0f0f0" } },
        {
          stroke: "#8c8c8c",
          grid: { stroke: "#f0f0f0" },
          ticks: { stroke: "#f0f0f0" },
          size: 50,
          values: (_u, vals) => vals.map((v) => formatCompact(v)),
        },
      ],
      series: [
        {},
        ...shown.map((s, i) => ({
          label: s.name.length > 60 ? `${s.name.slice(0, 59)}…` : s.name,
          stroke: COLORS[i],
          width: 1.5,
          points: { show: false },
          spanGaps: true,
        })),
      ],
      plugins: [marker],
    };
    const plot = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [series, alertStart, alertLabel, height]);

  return <div ref={box} className="chart-box" data-testid="metric-chart" />;
}
