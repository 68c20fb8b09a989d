// Cards for the analyzer's newer evidence: what changed on the alert's subject (a
// host, pod or instance), request steps that got slower, and the data's coverage.
import { useState } from "react";
import { Button, Card, Space, Table, Tag, Tooltip, Typography } from "antd";
import { ArrowDownOutlined, ArrowUpOutlined } from "@ant-design/icons";
import type { CoverageView, EvidenceWindow, LatencySuspectView, ResourceFindingView, SubjectView } from "../api/types";
import { useT, type MessageKey } from "../i18n";
import { coverageNotes, findingChange, formatMs, latencyRows, seriesLabel, sinceAlert, sinceText, slowdown, type LatencyRow } from "../lib/evidence";
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
  return (
    <Card
      size="small"
      title={t("analysis.subject.title", { component: subject.component })}
      extra={<Typography.Text type="secondary">{t("analysis.subject.hint")}</Typography.Text>}
      data-testid="subject-findings"
    >
      {subject.findings.length === 0 ? (
        <Typography.Text type="secondary">{t("analysis.subject.nothing")}</Typography.Text>
      ) : (
        <div className="subject-findings">
          {rows.map((f, i) => (
            <FindingRow key={`${f.resource}-${f.metric}-${i}`} finding={f} alertAt={alertAt} />
          ))}
          <MoreButton all={all} count={subject.findings.length} onClick={() => setAll(!all)} />
        </div>
      )}
    </Card>
  );
}

function FindingRow({ finding: f, alertAt }: { finding: ResourceFindingView; alertAt: string | null | undefined }) {
  const t = useT();
  const up = f.direction === "up";
  const label = seriesLabel(f.metric, f.labels, f.rate);
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
        <Typography.Text className="mono selector" ellipsis={{ tooltip: label }} copyable={{ text: label }}>
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

/** One line on how much of the windows the data covered (under the sources). */
export function CoverageLine({ coverage, window: w }: { coverage: CoverageView | null | undefined; window: EvidenceWindow | null | undefined }) {
  const t = useT();
  const notes = coverageNotes(coverage, w, formatTime);
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
