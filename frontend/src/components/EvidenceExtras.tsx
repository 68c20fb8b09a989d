// Cards for the analyzer's newer evidence: what changed on the alert's subject (a
// host, pod or instance), request steps that got slower, edges of the service graph
// that went wrong, and the data's coverage.
import { useState, type HTMLAttributes } from "react";
import { Button, Card, Space, Table, Tag, Tooltip, Typography } from "antd";
import { ArrowDownOutlined, ArrowUpOutlined } from "@ant-design/icons";
import type { CoverageView, EvidenceWindow, LatencySuspectView, ResourceFindingView, ServiceGraphView, SubjectView } from "../api/types";
import { useT, type MessageKey } from "../i18n";
import {
  coverageNotes,
  findingChange,
  formatMs,
  graphLeadsTo,
  graphRows,
  labelText,
  latencyRows,
  ownLabels,
  seriesLabel,
  sinceAlert,
  sinceText,
  slowdown,
  subjectLabels,
  type GraphEdgeRow,
  type LatencyRow,
} from "../lib/evidence";
import { formatRatio } from "../lib/analysis";
import { formatCount, formatTime } from "../lib/format";

/** How many rows a card shows before "show all". */
const FIRST_ROWS = 3;

function MoreButton({ all, count, onClick }: { all: boolean; count: number; onClick: () => void }) {
  const t = useT();
  if (count <= FIRST_ROWS) return null;
  return (
    <Button type="link" size="small" onClick={onClick} style={{ paddingInline: 0 }} data-testid="show-all">
      {all ? t("analysis.showFewer") : t("analysis.showAll", { n: count })}
    </Button>
  );
}

/** "What changed on <host>": the subject's resources that moved, largest effect first. */
export function SubjectCard({ subject, alertAt }: { subject: SubjectView; alertAt: string | null | undefined }) {
  const t = useT();
  const [all, setAll] = useState(false);
  const rows = all ? subject.findings : subject.findings.slice(0, FIRST_ROWS);
  // The labels naming the subject (instance, job, ...) are said once, in the title.
  const shared = subjectLabels(subject.component, subject.findings);
  // The title names the component already: `instance="node-3:9100"` is not said twice.
  const sharedText = labelText(Object.fromEntries(Object.entries(shared).filter(([, v]) => v !== subject.component)));
  return (
    <Card
      size="small"
      title={
        <Space size={8} wrap style={{ rowGap: 0 }}>
          <span data-testid="subject-title">{t("analysis.subject.title", { component: subject.component })}</span>
          {sharedText && (
            <Tooltip title={t("analysis.subject.labels")}>
              <Typography.Text type="secondary" className="mono" style={{ fontWeight: "normal", fontSize: 12 }} data-testid="subject-labels">
                {sharedText}
              </Typography.Text>
            </Tooltip>
          )}
        </Space>
      }
      extra={<Typography.Text type="secondary">{t("analysis.subject.hint")}</Typography.Text>}
      data-testid="subject-findings"
    >
      {subject.findings.length === 0 ? (
        <Typography.Text type="secondary">{t("analysis.subject.nothing")}</Typography.Text>
      ) : (
        <div className="subject-findings">
          {rows.map((f, i) => (
            <FindingRow key={`${f.resource}-${f.metric}-${i}`} finding={f} shared={shared} alertAt={alertAt} />
          ))}
          <MoreButton all={all} count={subject.findings.length} onClick={() => setAll(!all)} />
        </div>
      )}
    </Card>
  );
}

function FindingRow({
  finding: f,
  shared,
  alertAt,
}: {
  finding: ResourceFindingView;
  /** Labels the card's title says already: left out here, kept in what is copied. */
  shared: Record<string, string>;
  alertAt: string | null | undefined;
}) {
  const t = useT();
  const up = f.direction === "up";
  const full = seriesLabel(f.metric, f.labels, f.rate);
  const own = ownLabels(f.labels, shared);
  // A bare metric name when nothing else tells the series apart: `node_load1`, not `node_load1{}`.
  const label = Object.keys(own).length ? seriesLabel(f.metric, own, f.rate) : f.rate ? `rate(${f.metric})` : f.metric;
  return (
    <div className="subject-finding" data-testid="subject-finding">
      <Tag color="purple" style={{ minWidth: 72, textAlign: "center" }} data-testid="finding-resource">
        {t(`analysis.resource.${f.resource}` as MessageKey)}
      </Tag>
      <Space direction="vertical" size={0} style={{ minWidth: 0, flex: 1 }}>
        <Space wrap size={[8, 0]}>
          <Tag color={up ? "red" : "blue"} icon={up ? <ArrowUpOutlined /> : <ArrowDownOutlined />} style={{ marginInlineEnd: 0 }}>
            <span data-testid="finding-change">{findingChange(f)}</span>
          </Tag>
          <Typography.Text type="secondary" data-testid="finding-since">
            {t("analysis.since.label")} {sinceText(t, sinceAlert(f.started_at, alertAt), f.started_at)}
          </Typography.Text>
          {f.series > 1 && <Typography.Text type="secondary">{t("analysis.subject.series", { n: f.series })}</Typography.Text>}
        </Space>
        <Typography.Text className="mono selector" ellipsis={{ tooltip: full }} copyable={{ text: full }} data-testid="finding-series">
          {label}
        </Typography.Text>
      </Space>
    </div>
  );
}

/** "Requests got slower": the steps (caller → callee) whose time per request grew, by the service they point at. */
export function LatencyCard({ latency }: { latency: LatencySuspectView[] }) {
  const t = useT();
  const [all, setAll] = useState(false);
  const rows = latencyRows(latency);
  if (!rows.length) return null;
  return (
    <Card
      title={
        <div className="card-title">
          <span>{t("analysis.latency.title")}</span>
          <Typography.Text type="secondary">{t("analysis.latency.hint")}</Typography.Text>
        </div>
      }
      data-testid="latency"
    >
      <Table<LatencyRow>
        size="small"
        rowKey="key"
        dataSource={all ? rows : rows.slice(0, FIRST_ROWS)}
        pagination={false}
        scroll={{ x: 640 }}
        columns={[
          { title: t("analysis.service"), dataIndex: "service", width: 180, render: (s: string) => <strong>{s}</strong> },
          {
            title: t("analysis.latency.step"),
            key: "step",
            render: (_: unknown, r) =>
              r.caller === r.callee ? (
                <Tag>{r.caller}</Tag>
              ) : (
                <span data-testid="latency-step">
                  <Tag>{r.caller}</Tag>→ <Tag color="orange">{r.callee}</Tag>
                </span>
              ),
          },
          {
            title: t("analysis.latency.time"),
            key: "time",
            width: 200,
            align: "right",
            render: (_: unknown, r) => (
              <Tooltip title={t("analysis.latency.z", { z: r.z.toFixed(1) })}>
                <span data-testid="latency-time">
                  {formatMs(r.baselineMs)} → <strong>{formatMs(r.incidentMs)}</strong>{" "}
                  <Typography.Text type="secondary">{formatRatio(slowdown(r.baselineMs, r.incidentMs))}</Typography.Text>
                </span>
              </Tooltip>
            ),
          },
          { title: t("analysis.latency.requests"), dataIndex: "requests", width: 100, align: "right", render: (n: number) => formatCount(n) },
        ]}
      />
      <MoreButton all={all} count={rows.length} onClick={() => setAll(!all)} />
    </Card>
  );
}

const WHAT_COLOR: Record<GraphEdgeRow["what"], string> = { latency: "orange", errors: "red", network: "blue", other: "default" };

/**
 * "Calls between services": the service graph's edges (caller → callee) that went
 * wrong, what changed on each (slower at the callee, more calls failed, slower on
 * the wire) before → now, those pointing at the service the graph leads to first
 * and marked.
 */
export function ServiceGraphCard({ graph }: { graph: ServiceGraphView }) {
  const t = useT();
  const [all, setAll] = useState(false);
  const leadsTo = graphLeadsTo(graph);
  const rows = graphRows(graph, leadsTo);
  return (
    <Card
      title={
        <div className="card-title">
          <span>{t("analysis.graph.title")}</span>
          <Typography.Text type="secondary">
            {t("analysis.graph.hint", { source: graphSource(graph.source), edges: formatCount(graph.edges) })}
          </Typography.Text>
        </div>
      }
      extra={
        leadsTo && rows.length > 0 ? (
          <Space size={4} data-testid="graph-leads-to">
            <Typography.Text type="secondary">{t("analysis.graph.leadsTo")}</Typography.Text>
            <Tag color="red" style={{ marginInlineEnd: 0 }}>
              {leadsTo}
            </Tag>
          </Space>
        ) : undefined
      }
      data-testid="service-graph"
    >
      {rows.length === 0 ? (
        <Typography.Text type="secondary">{t("analysis.graph.nothing")}</Typography.Text>
      ) : (
        <>
          <Table<GraphEdgeRow>
            size="small"
            rowKey="key"
            dataSource={all ? rows : rows.slice(0, FIRST_ROWS)}
            pagination={false}
            scroll={{ x: 640 }}
            rowClassName={(r) => (r.leads ? "graph-edge-lead" : "")}
            onRow={(r) => ({ "data-testid": "graph-edge", "data-leads": r.leads ? "true" : "false" }) as HTMLAttributes<HTMLElement>}
            columns={[
              {
                title: t("analysis.graph.edge"),
                key: "edge",
                render: (_: unknown, r) => (
                  <span data-testid="graph-edge-step">
                    <Tag color={r.what === "network" && r.leads ? "red" : undefined}>{r.client}</Tag>→{" "}
                    <Tag color={r.leads ? "red" : r.what === "network" ? undefined : "orange"}>{r.server}</Tag>
                  </span>
                ),
              },
              {
                title: t("analysis.graph.what"),
                key: "what",
                width: 190,
                render: (_: unknown, r) => (
                  <Tooltip title={t(`analysis.graph.whatHint.${r.what}` as MessageKey)}>
                    <Tag color={WHAT_COLOR[r.what]} data-testid="graph-edge-what">
                      {t(`analysis.graph.what.${r.what}` as MessageKey)}
                    </Tag>
                  </Tooltip>
                ),
              },
              {
                title: t("analysis.graph.change"),
                key: "change",
                width: 210,
                align: "right",
                render: (_: unknown, r) => (
                  <Tooltip title={t("analysis.latency.z", { z: r.z.toFixed(1) })}>
                    <span data-testid="graph-edge-change">
                      {r.baseline} → <strong>{r.incident}</strong>
                      {r.factor !== null && r.what !== "errors" && (
                        <Typography.Text type="secondary"> {formatRatio(r.factor)}</Typography.Text>
                      )}
                    </span>
                  </Tooltip>
                ),
              },
            ]}
          />
          <MoreButton all={all} count={rows.length} onClick={() => setAll(!all)} />
        </>
      )}
    </Card>
  );
}

/** The exporter whose metrics described the graph, as its makers write it. */
function graphSource(source: string | null | undefined): string {
  const known: Record<string, string> = { tempo: "Tempo", istio: "Istio", linkerd: "Linkerd" };
  return source ? (known[source] ?? source) : "";
}

/**
 * One muted line where the service graph would be: the data had no service-graph
 * metrics, and whether trace ids gave the calls between services instead.
 */
export function NoServiceGraph({ traceLines }: { traceLines: number }) {
  const t = useT();
  return (
    <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="service-graph-none">
      {t(traceLines > 0 ? "analysis.graph.none" : "analysis.graph.noCalls")}
    </Typography.Text>
  );
}

/** One line on how much of the windows the data covered (under the sources). */
export function CoverageLine({
  coverage,
  window: w,
  logLines,
}: {
  coverage: CoverageView | null | undefined;
  window: EvidenceWindow | null | undefined;
  /** Log lines looked at: "no trace ids" is only said when there were logs. */
  logLines?: number;
}) {
  const t = useT();
  const notes = coverageNotes(coverage, w, formatTime, logLines);
  if (!notes.length) return null;
  return (
    <div className="coverage" data-testid="coverage">
      <Typography.Text type="secondary">{t("analysis.coverage.title")}: </Typography.Text>
      {notes.map((n, i) => (
        <span key={n.key}>
          {i > 0 && <Typography.Text type="secondary"> · </Typography.Text>}
          <Typography.Text type={n.warn ? "warning" : undefined}>{t(n.key, n.values)}</Typography.Text>
        </span>
      ))}
    </div>
  );
}
