// A metric chart's title: the component and what was measured first (what a tired
// on-call engineer needs), the metric's name muted after it, cut with an ellipsis
// when the line is too long; the full selector in the tooltip, copied by the copy
// button and kept in `data-selector`.
import { Tooltip, Typography } from "antd";
import { useT } from "../i18n";
import { detailText, whatText, type MetricTitle as Title } from "../lib/metricTitle";

export default function MetricTitle({ title: m, testId }: { title: Title; testId?: string }) {
  const t = useT();
  const detail = detailText(t, m);
  return (
    <div className="metric-title">
      <Tooltip title={<span className="mono wrap-anywhere">{m.selector}</span>} placement="topLeft">
        <span className="metric-title-text" data-testid={testId} data-selector={m.selector}>
          {m.component && (
            <>
              <strong data-testid="metric-title-component">{m.component.name}</strong>
              {" · "}
            </>
          )}
          <span data-testid="metric-title-what">{whatText(t, m)}</span>
          {detail && <span className="metric-title-detail">{` (${detail})`}</span>}
        </span>
      </Tooltip>
      <Typography.Text copyable={{ text: m.selector, tooltips: [t("metric.copySelector"), t("common.copied")] }} className="metric-title-copy" />
    </div>
  );
}
