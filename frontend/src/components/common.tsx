// Small shared pieces of the pages: heading, status tags, error box, code block.
import type { ReactNode } from "react";
import { Alert, Button, Tag, Typography } from "antd";
import { CheckCircleOutlined, CloseCircleOutlined, SyncOutlined, ClockCircleOutlined } from "@ant-design/icons";
import { errorMessage } from "../api/client";
import { useT, type MessageKey } from "../i18n";
import { SEVERITY_COLOR, TICKET_STATUS_COLOR } from "../lib/tickets";
import type { AnalysisStatus, TicketStatus } from "../api/types";

export function PageHead({ title, extra }: { title: ReactNode; extra?: ReactNode }) {
  return (
    <div className="page-head">
      <Typography.Title level={3}>{title}</Typography.Title>
      {extra ? <div style={{ display: "flex", gap: 8, flexWrap: "wrap" }}>{extra}</div> : null}
    </div>
  );
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const t = useT();
  return (
    <Alert
      type="error"
      showIcon
      message={t("common.error")}
      description={errorMessage(error)}
      action={onRetry ? <Button size="small" onClick={onRetry}>{t("common.retry")}</Button> : undefined}
      style={{ marginBottom: 16 }}
    />
  );
}

const ANALYSIS_STATUS_TAG: Record<AnalysisStatus, { color: string; icon: ReactNode }> = {
  pending: { color: "default", icon: <ClockCircleOutlined /> },
  collecting: { color: "processing", icon: <SyncOutlined spin /> },
  analyzing: { color: "processing", icon: <SyncOutlined spin /> },
  completed: { color: "success", icon: <CheckCircleOutlined /> },
  failed: { color: "error", icon: <CloseCircleOutlined /> },
};

export function AnalysisStatusTag({ status }: { status: AnalysisStatus }) {
  const t = useT();
  const s = ANALYSIS_STATUS_TAG[status] ?? ANALYSIS_STATUS_TAG.pending;
  return (
    <Tag color={s.color} icon={s.icon} data-status={status}>
      {t(`analysis.status.${status}` as MessageKey)}
    </Tag>
  );
}

export function TicketStatusTag({ status }: { status: TicketStatus }) {
  const t = useT();
  return (
    <Tag color={TICKET_STATUS_COLOR[status]} data-status={status}>
      {t(`tickets.status.${status}` as MessageKey)}
    </Tag>
  );
}

export function SeverityTag({ severity }: { severity: string | null | undefined }) {
  if (!severity) return <>—</>;
  return <Tag color={SEVERITY_COLOR[severity] ?? "default"}>{severity}</Tag>;
}

export function CodeBlock({ children }: { children: string }) {
  return (
    <Typography.Paragraph copyable={{ text: children }} style={{ marginBottom: 0 }}>
      <pre className="code">{children}</pre>
    </Typography.Paragraph>
  );
}
