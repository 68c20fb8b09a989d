// Series → uPlot's aligned columns: one sorted x column (epoch seconds), one y column
// per series with null where a series has no sample at that x.
import type { Series } from "./analysis";

export function alignSeries(series: Series[]): [number[], ...(number | null)[][]] {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const col: (number | null)[] = new Array<number | null>(xs.length).fill(null);
    for (const [x, y] of s.points) col[index.get(x)!] = y;
    return col;
  });
  return [xs, ...ys];
}
