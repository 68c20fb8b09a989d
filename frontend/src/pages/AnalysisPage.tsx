import { useMemo, useState } from "react";
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
  Typography,
} from "antd";
import { FileAddOutlined, ReloadOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../api/client";
import type { Analysis } from "../api/types";
import { useT, type MessageKey } from "../i18n";
import { useCan } from "../lib/queries";
import { useAnalysisLive, type LiveMode } from "../lib/useAnalysisLive";
import {
  alertFacts,
  alertLabels,
  alertStart,
  isFinal,
  parseEvidenceOverview,
  parseResult,
  parseSources,
  parseUsage,
  ticketDescription,
  type AnalysisResult,
  type EvidenceItem,
  type SourceRun,
} from "../lib/analysis";
import { elapsedMs, formatCount, formatDateTime, formatDuration, formatPercent, formatTime } from "../lib/format";
import type { ProgressEvent } from "../lib/sse";
import { AnalysisStatusTag, CodeBlock, ErrorBox, PageHead, SeverityTag } from "../components/common";
import { PageSpinner } from "../components/shell";
import MetricChart from "../components/MetricChart";
import TicketFormModal from "../components/TicketFormModal";
import { asSeverity } from "../lib/tickets";

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
  const result = useMemo(() => parseResult(a?.result), [a?.result]);

  if (query.isPending) return <PageSpinner />;
  if (query.isError) {
    if (query.error instanceof ApiError && query.error.status === 404)
      return <Result status="404" title="404" subTitle={query.error.message} extra={<Link to="/analyses">{t("nav.history")}</Link>} />;
    return <ErrorBox error={query.error} onRetry={() => void query.refetch()} />;
  }
  if (!a) return null;

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
        {result && <ResultCards analysis={a} result={result} />}
        <EvidenceOverviewCard analysis={a} />
        <Col xs={24}>
          <SourcesCard sources={parseSources(a.sources)} final={isFinal(a.status)} />
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
  const took = elapsedMs(a.started_at ?? a.created_at, a.completed_at);
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
            {t("analysis.duration")}: {formatDuration(took)}
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
            children: (
              <Space size={6} wrap>
                {e.at && <Typography.Text type="secondary">{formatTime(e.at)}</Typography.Text>}
                <Tag>{e.stage}</Tag>
                <span>{e.message}</span>
              </Space>
            ),
          }))}
        />
      )}
      <Typography.Text type="secondary" style={{ display: "block", marginTop: 12, fontSize: 12 }}>
        {t("analysis.by")} {a.created_by} · {formatDateTime(a.created_at)}
      </Typography.Text>
    </Card>
  );
}

function ResultCards({ analysis: a, result: r }: { analysis: Analysis; result: AnalysisResult }) {
  const t = useT();
  const usage = parseUsage(a.usage);
  const start = alertStart(a.alert, a.window);
  return (
    <>
      <Col xs={24} lg={16}>
        <Card title={t("analysis.summary")} style={{ height: "100%" }} data-testid="analysis-result">
          {r.summary && <Typography.Paragraph style={{ whiteSpace: "pre-wrap" }}>{r.summary}</Typography.Paragraph>}
          <Alert type="error" showIcon={false} message={<strong>{t("analysis.rootCause")}</strong>} description={r.root_cause || "—"} />
        </Card>
      </Col>
      <Col xs={24} lg={8}>
        <Card style={{ height: "100%" }}>
          <Space direction="vertical" style={{ width: "100%" }}>
            <Typography.Text type="secondary">{t("analysis.confidence")}</Typography.Text>
            <Progress
              percent={r.confidence === null ? 0 : Math.round((r.confidence > 1 ? r.confidence / 100 : r.confidence) * 100)}
              format={() => formatPercent(r.confidence)}
              status={r.confidence !== null && r.confidence < 0.4 ? "exception" : "normal"}
            />
            <Descriptions size="small" column={1} colon={false}>
              <Descriptions.Item label={t("analysis.severity")}>
                <SeverityTag severity={r.severity} />
              </Descriptions.Item>
              <Descriptions.Item label={t("analysis.analyzer")}>
                {a.analyzer ? <Tag color={a.analyzer === "statistical" ? "default" : "purple"}>{a.analyzer === "statistical" ? t("analysis.statistical") : a.analyzer}</Tag> : "—"}
              </Descriptions.Item>
              {usage?.total_tokens != null && (
                <Descriptions.Item label={t("analysis.tokens")}>
                  {t("analysis.tokensDetail", {
                    total: formatCount(usage.total_tokens),
                    prompt: formatCount(usage.prompt_tokens),
                    completion: formatCount(usage.completion_tokens),
                  })}
                </Descriptions.Item>
              )}
              {usage?.steps != null && <Descriptions.Item label={t("analysis.steps")}>{usage.steps}</Descriptions.Item>}
              <Descriptions.Item label={t("analysis.duration")}>
                {formatDuration(usage?.ms ?? elapsedMs(a.started_at ?? a.created_at, a.completed_at))}
              </Descriptions.Item>
            </Descriptions>
          </Space>
        </Card>
      </Col>
      <Col xs={24} lg={12}>
        <Card title={t("analysis.suspects")} style={{ height: "100%" }}>
          {r.suspects.length ? (
            <List
              dataSource={r.suspects}
              renderItem={(s, i) => (
                <List.Item>
                  <div style={{ width: "100%" }}>
                    <Space wrap>
                      <Tag color={i === 0 ? "red" : "default"}>#{i + 1}</Tag>
                      <strong>{s.component || "—"}</strong>
                      {s.kind && <Tag>{s.kind}</Tag>}
                    </Space>
                    {s.score !== null && <Progress percent={Math.round(Math.min(1, s.score) * 100)} size="small" strokeColor={i === 0 ? "#ff4d4f" : undefined} />}
                    {s.reasons.length > 0 && (
                      <ul style={{ margin: "4px 0 0", paddingInlineStart: 20 }}>
                        {s.reasons.map((x, j) => (
                          <li key={j}>
                            <Typography.Text type="secondary">{x}</Typography.Text>
                          </li>
                        ))}
                      </ul>
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
            <List dataSource={r.evidence} renderItem={(e) => <EvidenceRow item={e} alertStart={start} />} />
          ) : (
            <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("analysis.noEvidence")} />
          )}
        </Card>
      </Col>
    </>
  );
}

function EvidenceRow({ item: e, alertStart }: { item: EvidenceItem; alertStart: number | null }) {
  const t = useT();
  return (
    <List.Item>
      <div style={{ width: "100%", minWidth: 0 }}>
        <Space wrap>
          <Tag color={e.kind === "metric" ? "orange" : e.kind === "log" ? "geekblue" : "default"}>{e.kind || "—"}</Tag>
          {e.source && <Typography.Text type="secondary">{e.source}</Typography.Text>}
        </Space>
        <div style={{ marginTop: 4, whiteSpace: "pre-wrap" }}>{e.detail}</div>
        {e.series.length > 0 && <MetricChart series={e.series} alertStart={alertStart} alertLabel={t("analysis.chartAlertStart")} />}
        {e.query && (
          <div style={{ marginTop: 4 }}>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t("analysis.query")}
            </Typography.Text>
            <CodeBlock>{e.query}</CodeBlock>
          </div>
        )}
        {e.link && (
          <a href={e.link} target="_blank" rel="noreferrer">
            {e.link}
          </a>
        )}
      </div>
    </List.Item>
  );
}

function EvidenceOverviewCard({ analysis: a }: { analysis: Analysis }) {
  const t = useT();
  const ov = useMemo(() => parseEvidenceOverview(a.evidence), [a.evidence]);
  const start = alertStart(a.alert, a.window);
  if (!ov.templates.length && !ov.metrics.length) return null;
  return (
    <>
      {ov.metrics.length > 0 && (
        <Col xs={24}>
          <Card title={t("analysis.metrics")}>
            <List dataSource={ov.metrics} renderItem={(e) => <EvidenceRow item={e} alertStart={start} />} />
          </Card>
        </Col>
      )}
      {ov.templates.length > 0 && (
        <Col xs={24}>
          <Card title={t("analysis.templates")}>
            <Table
              size="small"
              rowKey={(_, i) => String(i)}
              dataSource={ov.templates}
              pagination={ov.templates.length > 10 ? { pageSize: 10 } : false}
              scroll={{ x: 700 }}
              columns={[
                { title: t("analysis.templates"), dataIndex: "template", render: (s: string) => <span className="mono">{s}</span> },
                { title: t("analysis.before"), dataIndex: "before", width: 90, align: "right", render: formatCount },
                { title: t("analysis.during"), dataIndex: "during", width: 90, align: "right", render: formatCount },
                { title: "", dataIndex: "source", width: 140, responsive: ["md"] },
              ]}
            />
          </Card>
        </Col>
      )}
    </>
  );
}

function SourcesCard({ sources, final }: { sources: SourceRun[]; final: boolean }) {
  const t = useT();
  return (
    <Card title={t("analysis.sources")} size="small">
      <Table<SourceRun>
        size="small"
        rowKey={(s, i) => `${s.name}-${i}`}
        dataSource={sources}
        pagination={false}
        scroll={{ x: 700 }}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={final ? t("analysis.noSourcesQueried") : t("analysis.notYet")} /> }}
        columns={[
          { title: t("common.name"), dataIndex: "name", width: 160, render: (n: string, s) => <Space>{n}{s.type && <Tag>{s.type}</Tag>}</Space> },
          { title: t("analysis.query"), dataIndex: "query", render: (q?: string) => (q ? <Typography.Text className="mono" copyable ellipsis={{ tooltip: q }} style={{ maxWidth: 420 }}>{q}</Typography.Text> : "—") },
          { title: t("analysis.rows"), dataIndex: "rows", width: 90, align: "right", render: formatCount },
          { title: t("analysis.time"), dataIndex: "ms", width: 100, align: "right", render: (ms: number | null) => formatDuration(ms) },
          {
            title: t("common.status"),
            dataIndex: "error",
            width: 260,
            render: (e?: string) => (e ? <Typography.Text type="danger">{e}</Typography.Text> : <Tag color="success">{t("analysis.ok")}</Tag>),
          },
        ]}
      />
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
            <Descriptions.Item key={k} label={k}>
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
