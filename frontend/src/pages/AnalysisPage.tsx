import { useMemo, useState, type ReactNode } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import {
  Alert,
  App,
  Badge,
  Button,
  Card,
  Col,
  Collapse,
  Descriptions,
  Empty,
  List,
  Progress,
  Result,
  Row,
  Space,
  Steps,
  Table,
  Tag,
  Timeline,
  Tooltip,
  Typography,
} from "antd";
import { ArrowDownOutlined, ArrowUpOutlined, FileAddOutlined, ReloadOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../api/client";
import type {
  Analysis,
  AnalysisResult,
  ErrorOriginView,
  EvidenceView,
  LogTemplateView,
  MetricShiftView,
  MissingStepView,
  PathDivergenceView,
  ResultEvidence,
  SourceReport,
} from "../api/types";
import { useT, type MessageKey, type T } from "../i18n";
import { useCan } from "../lib/queries";
import { useAnalysisLive, type LiveMode } from "../lib/useAnalysisLive";
import {
  alertFacts,
  alertLabels,
  chartWindow,
  highlightVariables,
  compactArgs,
  formatChange,
  formatRatio,
  isFinal,
  parseUsage,
  prettyArgs,
  promSelector,
  shiftSeries,
  summaryAfterRootCause,
  suspectRows,
  templateFlags,
  ticketDescription,
  type ChartWindow,
} from "../lib/analysis";
import {
  elapsedMs,
  formatCompact,
  formatCount,
  formatDateTime,
  formatDuration,
  formatPercent,
  formatTime,
} from "../lib/format";
import type { ProgressEvent } from "../lib/sse";
import { AnalysisStatusTag, CodeBlock, ErrorBox, PageHead, SeverityTag } from "../components/common";
import { PageSpinner } from "../components/shell";
import MetricChart from "../components/MetricChart";
import MetricTitle from "../components/MetricTitle";
import { metricTitle, metricTitleText } from "../lib/metricTitle";
import AlertQueryCard from "../components/AlertQueryCard";
import TicketFormModal from "../components/TicketFormModal";
import { AnalyzerCard, AnalyzerTag } from "../components/AnalyzerCard";
import SeenBefore from "../components/SeenBefore";
import { asSeverity } from "../lib/tickets";
import { alertScope, formatWithZone, minutesFrom, timingParts } from "../lib/understood";
import { formatMetricValue, seriesLabel } from "../lib/evidence";
import { CoverageLine, LatencyCard, NoServiceGraph, ServiceGraphCard, SubjectCard } from "../components/EvidenceExtras";
import { RevisionCompare } from "../components/RevisionCompare";

export default function AnalysisPage() {
  const { id = "" } = useParams();
  const t = useT();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const canTicket = useCan("engineer");
  const qc = useQueryClient();
  const { query, events, mode } = useAnalysisLive(id);
  const [ticketOpen, setTicketOpen] = useState(false);
  const a = query.data;

  if (query.isPending) return <PageSpinner />;
  if (query.isError) {
    if (query.error instanceof ApiError && query.error.status === 404)
      return <Result status="404" title="404" subTitle={query.error.message} extra={<Link to="/analyses">{t("nav.history")}</Link>} />;
    return <ErrorBox error={query.error} onRetry={() => void query.refetch()} />;
  }
  if (!a) return null;
  const result = a.result ?? undefined;
  const evidence = a.evidence ?? undefined;
  const win = chartWindow(a);
  const usage = parseUsage(a.usage);
  const alertAt = a.window?.alert_start ?? alertScope(a.alert).startsAt;

  return (
    <>
      <PageHead
        title={
          <Space wrap>
            <span>{a.title || t("analysis.title")}</span>
            <AnalysisStatusTag status={a.status} />
          </Space>
        }
        extra={
          <>
            <Button icon={<ReloadOutlined />} onClick={() => void qc.invalidateQueries({ queryKey: ["analysis", id] })} aria-label={t("common.refresh")} />
            {canTicket && (
              <Button type="primary" icon={<FileAddOutlined />} onClick={() => setTicketOpen(true)} data-testid="create-ticket">
                {t("analysis.createTicket")}
              </Button>
            )}
          </>
        }
      />
      <Row gutter={[16, 16]}>
        <Col xs={24}>
          <UnderstoodSummary analysis={a} />
        </Col>
        {a.revision > 1 && (
          <Col xs={24}>
            <RevisionCompare analysis={a} />
          </Col>
        )}
        {result && <ResultCards analysis={a} result={result} evidence={evidence} window={win} />}
        <Col xs={24}>
          <SeenBefore analysisId={a.id} completed={a.status === "completed"} />
        </Col>
        <Col xs={24}>
          <ProgressCard analysis={a} events={events} mode={mode} />
        </Col>
        {a.error && (
          <Col xs={24}>
            <Alert
              type={a.status === "failed" ? "error" : "warning"}
              showIcon
              message={a.status === "failed" ? t("analysis.failed") : t("analysis.partial")}
              description={a.error}
            />
          </Col>
        )}
        {evidence && <EvidenceCards evidence={evidence} window={win} subjectShown={!!result} alertAt={alertAt} />}
        {(a.analyzer || usage?.llm) && (
          <Col xs={24}>
            <AnalyzerCard analyzer={a.analyzer} usage={usage} totalMs={a.timing && !a.timing.running ? a.timing.total_ms : null} />
          </Col>
        )}
        <Col xs={24}>
          <SourcesCard sources={a.sources ?? []} final={isFinal(a.status)} evidence={evidence} />
        </Col>
        <Col xs={24}>
          <AlertCard analysis={a} />
        </Col>
      </Row>
      {ticketOpen && (
        <TicketFormModal
          mode="create"
          analysisId={a.id}
          initial={{
            title: a.title,
            root_cause: result?.root_cause ?? "",
            severity: asSeverity(result?.severity),
            description: ticketDescription(result),
          }}
          onClose={() => setTicketOpen(false)}
          onDone={(ticket) => {
            setTicketOpen(false);
            void qc.invalidateQueries({ queryKey: ["tickets"] });
            void message.success(t("tickets.created", { no: ticket.no }));
            navigate(`/tickets/${encodeURIComponent(ticket.no)}`);
          }}
        />
      )}
    </>
  );
}

function ProgressCard({ analysis: a, events, mode }: { analysis: Analysis; events: ProgressEvent[]; mode: LiveMode }) {
  const t = useT();
  const order = ["pending", "collecting", "analyzing", "completed"] as const;
  const failed = a.status === "failed";
  // A failed analysis stopped at the step after the last one reached; show it there.
  const lastStage = [...events].reverse().find((e) => (order as readonly string[]).includes(e.stage))?.stage;
  const current = failed ? Math.max(1, order.indexOf((lastStage ?? "collecting") as (typeof order)[number])) : order.indexOf(a.status as (typeof order)[number]);
  const took = a.timing && !a.timing.running ? a.timing.total_ms : null;
  return (
    <Card
      size="small"
      title={t("analysis.progress")}
      extra={
        mode === "stream" ? (
          <Badge status="processing" text={t("analysis.live")} />
        ) : mode === "polling" || mode === "connecting" ? (
          <Badge status="default" text={t("analysis.polling")} />
        ) : took !== null ? (
          <Typography.Text type="secondary">
            {t("analysis.duration")}: <DurationText analysis={a} />
          </Typography.Text>
        ) : null
      }
    >
      <Steps
        size="small"
        current={current}
        status={failed ? "error" : a.status === "completed" ? "finish" : "process"}
        items={order.map((s, i) => ({
          title: failed && i === current ? t("analysis.status.failed") : t(`analysis.status.${s}` as MessageKey),
        }))}
        responsive
      />
      {a.status === "pending" && !events.length && (
        <Typography.Paragraph type="secondary" style={{ marginTop: 12, marginBottom: 0 }}>
          {t("analysis.waiting")}
        </Typography.Paragraph>
      )}
      {events.length > 0 && (
        <Timeline
          style={{ marginTop: 16, marginBottom: -16 }}
          items={events.slice(-30).map((e, i) => ({
            key: i,
            color: e.stage === "failed" ? "red" : e.stage === "completed" ? "green" : "blue",
            children: <EventLine event={e} />,
          }))}
        />
      )}
      <Typography.Text type="secondary" style={{ display: "block", marginTop: 12, fontSize: 12 }}>
        {t("analysis.by")} {a.created_by} · {formatDateTime(a.created_at)}
      </Typography.Text>
    </Card>
  );
}

/** One progress event: time, stage, message (wrapped however long), and the tool call it reports. */
function EventLine({ event: e }: { event: ProgressEvent }) {
  const t = useT();
  const tool = e.tool;
  return (
    <div className="event">
      {e.at && <Typography.Text type="secondary">{formatTime(e.at)}</Typography.Text>}
      <Tag>{named(t, "analysis.stage", e.stage)}</Tag>
      <span className="event-message">{e.message}</span>
      {tool && (tool.arguments.trim() || tool.error) && (
        <div className="event-detail">
          {tool.arguments.trim() && (
            <Typography.Text type="secondary" className="mono" ellipsis={{ tooltip: <pre className="tooltip-code">{prettyArgs(tool.arguments)}</pre> }}>
              {compactArgs(tool.arguments)}
            </Typography.Text>
          )}
          {tool.error && <Typography.Text type="danger" className="wrap-anywhere">{tool.error}</Typography.Text>}
        </div>
      )}
    </div>
  );
}

/** A translated name for an enum-like value, or the value itself when unknown. */
function named(t: T, prefix: string, v: string): string {
  const key = `${prefix}.${v}` as MessageKey;
  const s = t(key);
  return s === key ? v : s;
}

/** The one duration (submission to end), its parts in a tooltip. */
function DurationText({ analysis: a }: { analysis: Analysis }) {
  const t = useT();
  const p = timingParts(a.timing);
  // Analyses stored before they carried a timing: submission to end.
  if (!p) return <>{formatDuration(elapsedMs(a.created_at, a.completed_at))}</>;
  return (
    <Tooltip
      title={t("analysis.durationParts", {
        queued: formatDuration(p.queued),
        collect: formatDuration(p.collect),
        analyse: formatDuration(p.analyse),
      })}
    >
      <span className="hint" data-testid="analysis-duration">
        {formatDuration(p.total)}
      </span>
    </Tooltip>
  );
}

/** What was understood of the alert, and first what was not (with how to fix it). */
function UnderstoodSummary({ analysis: a }: { analysis: Analysis }) {
  const t = useT();
  const scope = alertScope(a.alert);
  const notices = a.notices ?? [];
  if (a.alert == null && !notices.length) return null;
  return (
    <Card size="small" data-testid="understood-summary">
      {notices.map((n, i) => (
        <Alert key={i} type="warning" showIcon message={n} style={{ marginBottom: 8 }} data-testid="result-notice" />
      ))}
      <Space wrap size={[16, 4]}>
        <span>
          <Typography.Text type="secondary">{t("understood.time")}: </Typography.Text>
          <strong data-testid="understood-alert-time">{formatWithZone(scope.startsAt)}</strong>
        </span>
        <span>
          <Typography.Text type="secondary">{t("understood.scope")}: </Typography.Text>
          {scope.services.length || scope.namespace || scope.instances.length ? (
            <span data-testid="understood-scope">
              {scope.namespace && <Tag>{scope.namespace}</Tag>}
              {scope.services.map((x) => (
                <Tag color="blue" key={x}>
                  {x}
                </Tag>
              ))}
              {scope.instances.slice(0, 4).map((x) => (
                <Tag key={x} className="mono">
                  {x}
                </Tag>
              ))}
            </span>
          ) : (
            <Typography.Text type="warning">{t("understood.noScope")}</Typography.Text>
          )}
        </span>
      </Space>
    </Card>
  );
}

function ResultCards({
  analysis: a,
  result: r,
  evidence: e,
  window: win,
}: {
  analysis: Analysis;
  result: AnalysisResult;
  evidence?: EvidenceView;
  window: ChartWindow;
}) {
  const t = useT();
  const suspects = useMemo(() => suspectRows(r, e), [r, e]);
  const [allSuspects, setAllSuspects] = useState(false);
  const w = a.window;
  // What paged comes first; without the rule's expression, the strongest shift.
  const paged = e?.alert_query && e.alert_query.series.some((s) => s.points.length > 0) ? e.alert_query : null;
  const key = paged ? undefined : (e?.metric_shifts ?? []).find((m) => m.points.length > 0);
  const keyTitle = key ? metricTitle(key.metric, key.labels, key.rate) : null;
  const incident: [number, number] | null = win.incidentStart !== null && win.incidentEnd !== null ? [win.incidentStart, win.incidentEnd] : null;
  const alertAt = w?.alert_start ?? alertScope(a.alert).startsAt;
  return (
    <>
      <Col xs={24} lg={key || paged ? 14 : 16}>
        <Card style={{ height: "100%" }} data-testid="analysis-result">
          <Typography.Text type="secondary">{t("analysis.rootCause")}</Typography.Text>
          <Typography.Title level={4} style={{ marginTop: 4 }} data-testid="root-cause">
            {r.root_cause || "—"}
          </Typography.Title>
          {summaryAfterRootCause(r) && (
            <Typography.Paragraph type="secondary" ellipsis={{ rows: 3, expandable: true }} style={{ whiteSpace: "pre-wrap" }}>
              {summaryAfterRootCause(r)}
            </Typography.Paragraph>
          )}
          <Space wrap size={[16, 4]}>
            <Tooltip title={t("analysis.confidenceHint")}>
              <span className="hint" data-testid="confidence">
                {t("analysis.confidence")}: <strong>{formatPercent(r.confidence)}</strong>
              </span>
            </Tooltip>
            <SeverityTag severity={r.severity} />
            <AnalyzerTag analyzer={a.analyzer} />
            <span>
              {t("analysis.duration")}: <DurationText analysis={a} />
            </span>
          </Space>
        </Card>
      </Col>
      {paged ? (
        <Col xs={24} lg={10}>
          <AlertQueryCard query={paged} alertStart={win.alertStart} incident={incident} />
        </Col>
      ) : key ? (
        <Col xs={24} lg={10}>
          <Card size="small" style={{ height: "100%" }} title={t("analysis.keyChart")} data-testid="key-chart">
            <MetricTitle title={keyTitle!} testId="key-chart-title" />
            <MetricChart
              series={[shiftSeries(key)]}
              alertStart={win.alertStart}
              alertLabel={t("analysis.chartAlertStart")}
              incident={incident}
              band={[key.baseline_median - key.baseline_spread, key.baseline_median + key.baseline_spread]}
              title={`${metricTitleText(t, keyTitle!)} — ${keyTitle!.selector}`}
              height={170}
            />
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t("analysis.chartLegend")}
            </Typography.Text>
          </Card>
        </Col>
      ) : (
        <Col xs={24} lg={8}>
          <Card size="small" style={{ height: "100%" }}>
            <Descriptions size="small" column={1} colon={false} className="facts">
              {w && (
                <Descriptions.Item label={t("analysis.window")}>
                  {t("analysis.windowDetail", {
                    baseline: formatTime(w.baseline_start),
                    incident: formatTime(w.incident_start),
                    end: formatTime(w.incident_end),
                  })}
                </Descriptions.Item>
              )}
              {e && (
                <Descriptions.Item label={t("analysis.lookedAt")}>
                  {t("analysis.lookedAtDetail", {
                    logs: formatCount(e.log_lines),
                    series: formatCount(e.series),
                    templates: formatCount(e.templates_total),
                  })}
                </Descriptions.Item>
              )}
            </Descriptions>
          </Card>
        </Col>
      )}
      {e?.subject && (
        <Col xs={24}>
          <SubjectCard subject={e.subject} alertAt={alertAt} />
        </Col>
      )}
      <Col xs={24} lg={12}>
        <Card title={t("analysis.suspects")} style={{ height: "100%" }}>
          {suspects.length ? (
            <List
              dataSource={allSuspects ? suspects : suspects.slice(0, 3)}
              loadMore={
                suspects.length > 3 ? (
                  <Button type="link" size="small" onClick={() => setAllSuspects(!allSuspects)}>
                    {allSuspects ? t("common.showLess") : t("common.showMore", { n: suspects.length - 3 })}
                  </Button>
                ) : undefined
              }
              renderItem={(s, i) => (
                <List.Item data-testid="suspect">
                  <div style={{ width: "100%", minWidth: 0 }}>
                    <Space wrap size={[8, 4]}>
                      <Tag color={i === 0 ? "red" : "default"}>#{i + 1}</Tag>
                      <strong>{s.component || "—"}</strong>
                      {s.kind && <Tag>{named(t, "analysis.kind", s.kind)}</Tag>}
                      {s.lead && (
                        <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="suspect-lead">
                          {t("analysis.lead.label")} {named(t, "analysis.lead", s.lead)}
                        </Typography.Text>
                      )}
                      {s.first_anomaly_at && (
                        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                          {t("analysis.firstAnomaly", { time: formatTime(s.first_anomaly_at) })}
                          {(() => {
                            const m = minutesFrom(alertAt, s.first_anomaly_at);
                            return m !== null && m < 0 ? ` (${t("analysis.beforeAlert", { n: -m })})` : "";
                          })()}
                        </Typography.Text>
                      )}
                    </Space>
                    <Progress percent={Math.round(Math.min(1, Math.max(0, s.score)) * 100)} size="small" showInfo={false} strokeColor={i === 0 ? "#ff4d4f" : undefined} />
                    {s.reasons.length > 0 && (
                      <ul className="reasons">
                        {s.reasons.map((x, j) => (
                          <li key={j}>
                            <Typography.Text type="secondary">{x}</Typography.Text>
                          </li>
                        ))}
                      </ul>
                    )}
                    {s.pods.length > 0 && (
                      <div style={{ marginTop: 4 }}>
                        {s.pods.map((p) => (
                          <Tag key={p} className="mono">
                            {p}
                          </Tag>
                        ))}
                      </div>
                    )}
                  </div>
                </List.Item>
              )}
            />
          ) : (
            <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} />
          )}
        </Card>
      </Col>
      <Col xs={24} lg={12}>
        <Card title={t("analysis.suggestions")} style={{ height: "100%" }}>
          {r.suggestions.length ? (
            <ol style={{ margin: 0, paddingInlineStart: 20 }}>
              {r.suggestions.map((s, i) => (
                <li key={i} style={{ marginBottom: 6 }}>
                  {s}
                </li>
              ))}
            </ol>
          ) : (
            <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} />
          )}
        </Card>
      </Col>
      <Col xs={24}>
        <Card title={t("analysis.evidence")}>
          {r.evidence.length ? (
            <List
              dataSource={r.evidence}
              pagination={r.evidence.length > 5 ? { pageSize: 5, size: "small" } : false}
              renderItem={(item) => <EvidenceRow item={item} />}
            />
          ) : (
            <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("analysis.noEvidence")} />
          )}
        </Card>
      </Col>
    </>
  );
}

function EvidenceRow({ item: e }: { item: ResultEvidence }) {
  const t = useT();
  return (
    <List.Item>
      <div style={{ width: "100%", minWidth: 0 }}>
        <Space wrap>
          <Tag color={e.kind === "metric" ? "orange" : e.kind === "log" ? "geekblue" : "default"}>{e.kind ? named(t, "analysis.kind", e.kind) : "—"}</Tag>
          {e.source && <Typography.Text type="secondary">{e.source}</Typography.Text>}
        </Space>
        <div className="evidence-detail">{e.detail}</div>
        {e.query && (
          <Collapse
            size="small"
            ghost
            className="evidence-query"
            items={[{ key: "q", label: t("analysis.query"), children: <CodeBlock>{e.query}</CodeBlock> }]}
          />
        )}
      </div>
    </List.Item>
  );
}

/** The stored evidence: error origins, request paths, metric shifts, log templates. */
function EvidenceCards({
  evidence: e,
  window: w,
  subjectShown,
  alertAt,
}: {
  evidence: EvidenceView;
  window: ChartWindow;
  /** The result's cards show the subject's findings already. */
  subjectShown: boolean;
  alertAt: string | null | undefined;
}) {
  return (
    <>
      {e.subject && !subjectShown && (
        <Col xs={24}>
          <SubjectCard subject={e.subject} alertAt={alertAt} />
        </Col>
      )}
      {e.error_origins.length > 0 && (
        <Col xs={24}>
          <ErrorOriginsCard origins={e.error_origins} />
        </Col>
      )}
      {(e.latency ?? []).some((l) => l.slowed.length > 0) && (
        <Col xs={24}>
          <LatencyCard latency={e.latency ?? []} />
        </Col>
      )}
      {e.service_graph ? (
        <Col xs={24}>
          <ServiceGraphCard graph={e.service_graph} />
        </Col>
      ) : (
        // Said only by analyzers that look for one, and not for a host's own alert.
        e.coverage?.trace_lines != null &&
        !e.subject && (
          <Col xs={24}>
            <NoServiceGraph traceLines={e.coverage.trace_lines} />
          </Col>
        )
      )}
      {(e.path_divergences ?? []).length > 0 && (
        <Col xs={24}>
          <PathDivergencesCard divergences={e.path_divergences ?? []} />
        </Col>
      )}
      {(e.missing_steps ?? []).length > 0 && (
        <Col xs={24}>
          <MissingStepsCard steps={e.missing_steps ?? []} />
        </Col>
      )}
      {e.metric_shifts.length > 0 && (
        <Col xs={24}>
          <MetricShiftsCard shifts={e.metric_shifts} window={w} />
        </Col>
      )}
      {e.log_templates.length > 0 && (
        <Col xs={24}>
          <TemplatesCard templates={e.log_templates} total={e.templates_total} />
        </Col>
      )}
    </>
  );
}

function CardTitle({ title, sub }: { title: string; sub?: ReactNode }) {
  return (
    <div className="card-title">
      <span>{title}</span>
      {sub && <Typography.Text type="secondary">{sub}</Typography.Text>}
    </div>
  );
}

function ErrorOriginsCard({ origins }: { origins: ErrorOriginView[] }) {
  const t = useT();
  return (
    <Card title={<CardTitle title={t("analysis.errorOrigins")} sub={t("analysis.errorOriginsHint")} />} data-testid="error-origins">
      <Table<ErrorOriginView>
        size="small"
        rowKey="service"
        dataSource={origins}
        pagination={false}
        scroll={{ x: 560 }}
        columns={[
          { title: t("analysis.service"), dataIndex: "service", render: (s: string) => <strong>{s || "—"}</strong> },
          { title: t("analysis.failingIncident"), dataIndex: "incident", width: 170, align: "right", render: formatCount },
          { title: t("analysis.failingBaseline"), dataIndex: "baseline", width: 90, align: "right", render: formatCount },
          {
            title: <Tooltip title={t("analysis.rateRatioHint")}>{t("analysis.rateRatio")}</Tooltip>,
            dataIndex: "rate_ratio",
            width: 80,
            align: "right",
            render: (r: number) => formatRatio(r),
          },
          { title: t("analysis.spread"), dataIndex: "spread", width: 110, align: "right", render: (n: number) => t("analysis.spreadValue", { count: n }) },
        ]}
      />
    </Card>
  );
}

function PathDivergencesCard({ divergences }: { divergences: PathDivergenceView[] }) {
  const t = useT();
  const step = (text: string | undefined, none: MessageKey) =>
    text ? <Typography.Text code>{text}</Typography.Text> : <Typography.Text type="secondary">{t(none)}</Typography.Text>;
  return (
    <Card title={<CardTitle title={t("analysis.paths")} sub={t("analysis.pathsHint")} />} data-testid="path-divergences">
      <Table<PathDivergenceView>
        size="small"
        rowKey="service"
        dataSource={divergences.slice(0, 8)}
        pagination={false}
        scroll={{ x: 640 }}
        columns={[
          { title: t("analysis.service"), dataIndex: "service", width: 200, render: (s: string) => <strong>{s || "—"}</strong> },
          {
            title: t("analysis.pathRequests"),
            key: "requests",
            width: 150,
            align: "right",
            render: (_: unknown, d) => `${formatCount(d.requests)} / ${formatCount(d.compared)}`,
          },
          {
            title: t("analysis.pathExample"),
            key: "example",
            render: (_: unknown, d) =>
              d.example ? (
                <div className="path-example">
                  <div>{t("analysis.pathAfter")} {step(d.example.last_usual, "analysis.pathStart")}</div>
                  <div>{t("analysis.pathCame")} {step(d.example.unexpected, "analysis.pathEnd")}</div>
                  <div>{t("analysis.pathInstead")} {step(d.example.expected, "analysis.pathEnd")}</div>
                </div>
              ) : (
                "—"
              ),
          },
        ]}
      />
    </Card>
  );
}

function MissingStepsCard({ steps }: { steps: MissingStepView[] }) {
  const t = useT();
  return (
    <Card title={<CardTitle title={t("analysis.missing")} sub={t("analysis.missingHint")} />} data-testid="missing-steps">
      <div className="call-edges" data-testid="call-edges">
        {steps.slice(0, 3).map((m) => (
          <div className="call-edge" key={`${m.after_service}>${m.service}`}>
            <Tag>{m.after_service || "—"}</Tag>
            <span className="call-arrow">
              {t("analysis.callsSeen", { seen: formatCount(m.seen), expected: Math.round(m.expected) })}
            </span>
            <Tag color="red">{m.service || "—"}</Tag>
          </div>
        ))}
      </div>
      <Table<MissingStepView>
        size="small"
        rowKey="service"
        dataSource={steps.slice(0, 8)}
        pagination={false}
        scroll={{ x: 640 }}
        columns={[
          { title: t("analysis.service"), dataIndex: "service", width: 200, render: (s: string) => <strong>{s || "—"}</strong> },
          {
            title: t("analysis.missingSeen"),
            key: "seen",
            width: 130,
            align: "right",
            render: (_: unknown, m) => `${formatCount(m.seen)} / ${Math.round(m.expected)}`,
          },
          { title: t("analysis.surprise"), dataIndex: "surprise", width: 90, align: "right", render: (s: number) => s.toFixed(1) },
          {
            title: t("analysis.missingStep"),
            key: "step",
            render: (_: unknown, m) => (
              <div className="path-example">
                <div>
                  {t("analysis.missingAfter", { service: m.after_service })} <Typography.Text code>{m.after}</Typography.Text>
                </div>
                <div>
                  <Typography.Text code>{m.step}</Typography.Text>
                </div>
              </div>
            ),
          },
        ]}
      />
    </Card>
  );
}

function DirectionTag({ shift: m }: { shift: MetricShiftView }) {
  const t = useT();
  const up = m.direction === "up";
  if (m.appeared)
    return (
      <Tooltip title={t("analysis.appearedHint")}>
        <Tag color="volcano" icon={<ArrowUpOutlined />} data-testid="shift-appeared">
          {t("analysis.appeared")}
        </Tag>
      </Tooltip>
    );
  return (
    <Tag color={up ? "red" : "blue"} icon={up ? <ArrowUpOutlined /> : <ArrowDownOutlined />}>
      {t(up ? "analysis.direction.up" : "analysis.direction.down")} {formatChange(m.relative_change)}
    </Tag>
  );
}

function ShiftFacts({ shift: m }: { shift: MetricShiftView }) {
  const t = useT();
  return (
    <div className="shift-facts">
      <span>
        <Typography.Text type="secondary">{t("analysis.baselineMedian")}</Typography.Text> {formatMetricValue(m.baseline_median, m.rate)}
      </span>
      <span>
        <Typography.Text type="secondary">{t("analysis.peak")}</Typography.Text> <strong>{formatMetricValue(m.peak, m.rate)}</strong>
      </span>
      <Tooltip title={t("analysis.robustScoreHint")}>
        <span>
          <Typography.Text type="secondary">{t("analysis.robustScore")}</Typography.Text>{" "}
          {t("analysis.robustScoreValue", { score: formatCompact(Number(m.score.toFixed(1))) })}
        </span>
      </Tooltip>
      <span>
        <Typography.Text type="secondary">{t("analysis.shiftStart")}</Typography.Text> {formatTime(m.started_at)}
      </span>
    </div>
  );
}

function MetricShiftsCard({ shifts, window: w }: { shifts: MetricShiftView[]; window: ChartWindow }) {
  const t = useT();
  const charted = shifts.filter((m) => m.points.length > 0);
  const rest = shifts.filter((m) => m.points.length === 0);
  const incident: [number, number] | null = w.incidentStart !== null && w.incidentEnd !== null ? [w.incidentStart, w.incidentEnd] : null;
  return (
    <Card
      title={<CardTitle title={t("analysis.metricShifts")} sub={t("analysis.shiftsOf", { count: shifts.length })} />}
      extra={charted.length > 0 ? <Typography.Text type="secondary" className="chart-legend">{t("analysis.chartLegend")}</Typography.Text> : undefined}
      data-testid="metric-shifts"
    >
      {charted.length > 0 && (
        <Row gutter={[16, 16]}>
          {charted.map((m, i) => {
            const series = shiftSeries(m);
            const title = metricTitle(m.metric, m.labels, m.rate);
            return (
              <Col xs={24} xl={12} key={`${series.name}-${i}`}>
                <div className="shift">
                  <MetricTitle title={title} testId="shift-selector" />
                  <DirectionTag shift={m} />
                  <ShiftFacts shift={m} />
                  <MetricChart
                    series={[series]}
                    alertStart={w.alertStart}
                    alertLabel={t("analysis.chartAlertStart")}
                    incident={incident}
                    band={[m.baseline_median - m.baseline_spread, m.baseline_median + m.baseline_spread]}
                    title={`${metricTitleText(t, title)} — ${title.selector}`}
                    height={150}
                  />
                </div>
              </Col>
            );
          })}
        </Row>
      )}
      {rest.length > 0 && (
        <Table<MetricShiftView>
          style={{ marginTop: charted.length ? 16 : 0 }}
          size="small"
          title={charted.length ? () => <Typography.Text type="secondary">{t("analysis.moreShifts")}</Typography.Text> : undefined}
          rowKey={(m, i) => `${promSelector(m.metric, m.labels)}-${i}`}
          dataSource={rest}
          pagination={rest.length > 10 ? { pageSize: 10, size: "small" } : false}
          scroll={{ x: 760 }}
          columns={[
            {
              title: "PromQL",
              key: "selector",
              render: (_, m) => <span className="mono selector">{seriesLabel(m.metric, m.labels, m.rate)}</span>,
            },
            { title: "", key: "dir", width: 120, render: (_, m) => <DirectionTag shift={m} /> },
            { title: t("analysis.baselineMedian"), dataIndex: "baseline_median", width: 110, align: "right", render: (x: number, m) => formatMetricValue(x, m.rate) },
            { title: t("analysis.peak"), dataIndex: "peak", width: 90, align: "right", render: (x: number, m) => formatMetricValue(x, m.rate) },
            { title: t("analysis.robustScore"), dataIndex: "score", width: 80, align: "right", render: (s: number) => s.toFixed(1) },
            { title: t("analysis.shiftStart"), dataIndex: "started_at", width: 90, render: formatTime },
          ]}
        />
      )}
    </Card>
  );
}

function TemplatesCard({ templates, total }: { templates: LogTemplateView[]; total: number }) {
  const t = useT();
  return (
    <Card
      title={<CardTitle title={t("analysis.templates")} sub={t("analysis.templatesOf", { shown: templates.length, total: formatCount(total) })} />}
      data-testid="log-templates"
    >
      <Table<LogTemplateView>
        size="small"
        rowKey={(x, i) => `${x.id}-${i}`}
        dataSource={templates}
        pagination={templates.length > 5 ? { pageSize: 5, size: "small" } : false}
        scroll={{ x: 820 }}
        expandable={{
          rowExpandable: (x) => x.examples.length > 0 || x.services.length > 1,
          expandRowByClick: false,
          expandedRowRender: (x) => <TemplateDetail template={x} />,
        }}
        columns={[
          {
            title: t("analysis.templates"),
            key: "template",
            render: (_, x) => (
              <div style={{ minWidth: 0 }}>
                {x.examples[0] ? (
                  <div className="mono template" data-testid="template-example">
                    {highlightVariables(x.template, x.examples[0]).map((p, i) =>
                      p.variable ? (
                        <mark key={i} className="var">
                          {p.text}
                        </mark>
                      ) : (
                        <span key={i}>{p.text}</span>
                      ),
                    )}
                  </div>
                ) : (
                  <div className="mono template">{x.template}</div>
                )}
                <Space wrap size={[4, 4]} style={{ marginTop: 4 }}>
                  {templateFlags(x).map((f) => (
                    <Tag key={f} color={f === "error" ? "red" : f === "new" ? "purple" : "orange"} bordered={false}>
                      {t(`analysis.flag.${f}`)}
                    </Tag>
                  ))}
                  {x.services.slice(0, 3).map((s) => (
                    <Tag key={s.service} bordered={false}>
                      {s.service || "—"}
                    </Tag>
                  ))}
                  {x.services.length > 3 && <Typography.Text type="secondary">+{x.services.length - 3}</Typography.Text>}
                </Space>
              </div>
            ),
          },
          {
            title: t("analysis.counts"),
            key: "counts",
            width: 140,
            align: "right",
            render: (_, x) => (
              <span>
                {formatCount(x.baseline_count)} → <strong>{formatCount(x.incident_count)}</strong>
              </span>
            ),
          },
          {
            title: <Tooltip title={t("analysis.rateRatioHint")}>{t("analysis.rateRatio")}</Tooltip>,
            dataIndex: "rate_ratio",
            width: 80,
            align: "right",
            render: (r: number) => formatRatio(r),
          },
          { title: t("analysis.firstSeen"), dataIndex: "first_seen", width: 100, render: (s?: string) => formatTime(s) },
        ]}
      />
    </Card>
  );
}

function TemplateDetail({ template: x }: { template: LogTemplateView }) {
  const t = useT();
  return (
    <Row gutter={[16, 8]}>
      {x.examples.length > 0 && (
        <Col xs={24} lg={x.services.length > 1 ? 16 : 24}>
          <Typography.Text type="secondary">{t("analysis.examples")}</Typography.Text>
          <div className="mono template" style={{ marginBottom: 4 }}>
            {t("analysis.templateText")}: {x.template}
          </div>
          <CodeBlock>{x.examples.join("\n")}</CodeBlock>
        </Col>
      )}
      {x.services.length > 1 && (
        <Col xs={24} lg={x.examples.length ? 8 : 24}>
          <Typography.Text type="secondary">{t("analysis.perService")}</Typography.Text>
          <Table
            size="small"
            rowKey="service"
            pagination={false}
            dataSource={x.services}
            columns={[
              { title: t("analysis.service"), dataIndex: "service", render: (s: string) => s || "—" },
              { title: t("analysis.baseline"), dataIndex: "baseline", width: 70, align: "right", render: formatCount },
              { title: t("analysis.incident"), dataIndex: "incident", width: 90, align: "right", render: formatCount },
            ]}
          />
        </Col>
      )}
    </Row>
  );
}

function SourcesCard({ sources, final, evidence }: { sources: SourceReport[]; final: boolean; evidence?: EvidenceView }) {
  const t = useT();
  return (
    <Card title={t("analysis.sources")} size="small">
      <Table<SourceReport>
        size="small"
        rowKey={(s, i) => `${s.name}-${i}`}
        dataSource={sources}
        pagination={false}
        scroll={{ x: 760 }}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={final ? t("analysis.noSourcesQueried") : t("analysis.notYet")} /> }}
        columns={[
          {
            title: t("common.name"),
            dataIndex: "name",
            width: 170,
            render: (n: string, s) => (
              <Space size={4} wrap>
                {n}
                {s.type && <Tag>{s.type}</Tag>}
              </Space>
            ),
          },
          {
            title: t("analysis.queries"),
            dataIndex: "queries",
            render: (qs: string[]) =>
              qs.length
                ? qs.map((q, i) => (
                    <Typography.Text key={i} className="mono" copyable ellipsis={{ tooltip: q }} style={{ display: "block", maxWidth: 460 }}>
                      {q}
                    </Typography.Text>
                  ))
                : "—",
          },
          { title: t("analysis.rows"), dataIndex: "rows", width: 90, align: "right", render: (n: number, s) => (s.status === "skipped" ? "—" : formatCount(n)) },
          { title: t("analysis.time"), dataIndex: "ms", width: 90, align: "right", render: (ms: number, s) => (s.status === "skipped" ? "—" : formatDuration(ms)) },
          {
            title: t("common.status"),
            key: "status",
            width: 240,
            render: (_, s) => (
              <Space direction="vertical" size={2}>
                <Space size={4} wrap data-testid="source-status">
                  {s.status === "failed" || s.error ? (
                    <>
                      <Tag color="error">{t("analysis.sourceFailed")}</Tag>
                      <Typography.Text type="danger" data-testid="source-error">
                        {s.error}
                      </Typography.Text>
                    </>
                  ) : s.status === "skipped" ? (
                    <Tag color="default">{t("analysis.sourceSkipped")}</Tag>
                  ) : (
                    <Tag color="success">{t("analysis.ok")}</Tag>
                  )}
                  {s.truncated && <Tag color="warning">{t("analysis.truncated")}</Tag>}
                </Space>
                {s.notes.map((n, i) => (
                  <Typography.Text key={i} type="secondary" style={{ fontSize: 12 }}>
                    {n}
                  </Typography.Text>
                ))}
              </Space>
            ),
          },
        ]}
      />
      <CoverageLine coverage={evidence?.coverage} window={evidence?.window} logLines={evidence?.log_lines} />
    </Card>
  );
}

function AlertCard({ analysis: a }: { analysis: Analysis }) {
  const t = useT();
  const facts = alertFacts(a.alert);
  const labels = alertLabels(a.alert);
  return (
    <Card title={a.alert != null ? t("analysis.alert") : t("analysis.rawAlert")} size="small">
      {facts.length > 0 && (
        <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 3 }} style={{ marginBottom: 8 }}>
          {facts.map(([k, v]) => (
            <Descriptions.Item key={k} label={named(t, "analysis.alertFact", k)}>
              {k === "starts_at" ? formatDateTime(v) : v}
            </Descriptions.Item>
          ))}
        </Descriptions>
      )}
      {labels.length > 0 && (
        <div style={{ marginBottom: 8 }}>
          {labels.map(([k, v]) => (
            <Tag key={k} className="mono" style={{ marginBottom: 4 }}>
              {k}={v}
            </Tag>
          ))}
        </div>
      )}
      <Collapse
        size="small"
        defaultActiveKey={facts.length || labels.length ? [] : ["raw"]}
        items={[
          { key: "raw", label: t("analysis.rawAlert"), children: <CodeBlock>{prettyJson(a.raw_alert)}</CodeBlock> },
          ...(a.alert != null ? [{ key: "parsed", label: t("common.raw"), children: <CodeBlock>{JSON.stringify(a.alert, null, 2)}</CodeBlock> }] : []),
        ]}
      />
    </Card>
  );
}

/** The alert as submitted, indented when it is JSON. */
function prettyJson(s: string): string {
  const x = s.trim();
  if (!x.startsWith("{") && !x.startsWith("[")) return s;
  try {
    return JSON.stringify(JSON.parse(x), null, 2);
  } catch {
    return s;
  }
}
