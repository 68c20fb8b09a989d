import { useEffect, useRef } from "react";
import uPlot from "uplot";
import dayjs from "dayjs";
import "uplot/dist/uPlot.min.css";
import { formatCompact, humanNumber } from "../lib/format";
import { alignSeries } from "../lib/chart";
import type { MetricChartProps } from "./MetricChart";

const COLORS = ["#1677ff", "#fa541c", "#52c41a", "#722ed1", "#faad14", "#13c2c2"];

export default function MetricChartImpl({ series, alertStart, alertLabel, incident, band, title, height = 160 }: MetricChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const from = incident?.[0] ?? null;
  const to = incident?.[1] ?? null;
  const low = band?.[0] ?? null;
  const high = band?.[1] ?? null;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const shown = series.filter((s) => s.points.length).slice(0, COLORS.length);
    const data = alignSeries(shown);
    const marker: uPlot.Plugin = {
      hooks: {
        drawClear: (u) => {
          if (low !== null && high !== null && Number.isFinite(low) && Number.isFinite(high)) {
            const top = Math.max(u.bbox.top, u.valToPos(high, "y", true));
            const bottom = Math.min(u.bbox.top + u.bbox.height, u.valToPos(low, "y", true));
            if (bottom > top) {
              u.ctx.save();
              u.ctx.fillStyle = "rgba(82, 196, 26, 0.14)";
              u.ctx.fillRect(u.bbox.left, top, u.bbox.width, Math.max(1, bottom - top));
              u.ctx.restore();
            }
          }
          if (from === null || to === null) return;
          const left = Math.max(u.bbox.left, u.valToPos(from, "x", true));
          const right = Math.min(u.bbox.left + u.bbox.width, u.valToPos(to, "x", true));
          if (right <= left) return;
          u.ctx.save();
          u.ctx.fillStyle = "rgba(255, 77, 79, 0.08)";
          u.ctx.fillRect(left, u.bbox.top, right - left, u.bbox.height);
          u.ctx.restore();
        },
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
          // The label on the line's right, or its left when it would leave the plot.
          const w = ctx.measureText(alertLabel).width;
          const gap = 4 * devicePixelRatio;
          const lx = x + gap + w > u.bbox.left + u.bbox.width ? x - gap - w : x + gap;
          ctx.fillText(alertLabel, lx, u.bbox.top + 12 * devicePixelRatio);
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
        {
          stroke: "#8c8c8c",
          grid: { stroke: "#f0f0f0" },
          ticks: { stroke: "#f0f0f0" },
          // 24-hour local times in both languages (uPlot's default is "8:10am").
          values: (_u, vals) => {
            const long = vals.length > 1 && vals[vals.length - 1]! - vals[0]! >= 86400;
            return vals.map((v) => dayjs(v * 1000).format(long ? "MM-DD HH:mm" : "HH:mm"));
          },
        },
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
          // The legend's value under the cursor, written as the headline writes numbers.
          value: (_u: uPlot, v: number | null) => (v === null || !Number.isFinite(v) ? "—" : humanNumber(v)),
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
  }, [series, alertStart, alertLabel, from, to, low, high, height]);

  return <div ref={box} className="chart-box" data-testid="metric-chart" role="img" aria-label={title ?? series[0]?.name} />;
}
