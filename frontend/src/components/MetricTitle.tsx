// A metric chart's title in two lines: first the component and what was measured
// (what a tired on-call engineer needs, short enough to stay whole), then the metric's
// own name, muted, cut with an ellipsis when too long. The full selector is in the
// tooltip of both, copied by the copy button, and kept in `data-selector`.
import { Tooltip, Typography } from "antd";
import { useT } from "../i18n";
import { whatText, type MetricTitle as Title } from "../lib/metricTitle";

export default function MetricTitle({ title: m, testId }: { title: Title; testId?: string }) {
  const t = useT();
  const copy = (
    <Typography.Text copyable={{ text: m.selector, tooltips: [t("metric.copySelector"), t("common.copied")] }} className="metric-title-copy" />
  );
  return (
    <Tooltip title={<span className="mono wrap-anywhere">{m.selector}</span>} placement="topLeft" mouseEnterDelay={0.3}>
      <div className="metric-title" data-testid={testId} data-selector={m.selector}>
        <div className="metric-title-line">
          <span className="metric-title-head">
            {m.component && (
              <>
                <strong data-testid="metric-title-component">{m.component.name}</strong>
                {" · "}
              </>
            )}
            <span data-testid="metric-title-what">{whatText(t, m)}</span>
            {m.rate && <span className="metric-title-muted">{` ${t("metric.perSecond")}`}</span>}
          </span>
          {!m.what && copy}
        </div>
        {m.what && (
          <div className="metric-title-line">
            <span className="metric-title-metric mono">{m.metric}</span>
            {copy}
          </div>
        )}
      </div>
    </Tooltip>
  );
}
