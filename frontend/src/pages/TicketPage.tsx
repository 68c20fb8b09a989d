import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { Alert, App, Button, Card, Col, Descriptions, Form, Input, Modal, Result, Row, Space, Tag, Timeline, Typography } from "antd";
import { EditOutlined, ReloadOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/endpoints";
import { ApiError, errorMessage } from "../api/client";
import type { TicketDetail, TicketHistoryEntry, TicketStatus } from "../api/types";
import { useT, type MessageKey } from "../i18n";
import { useCan } from "../lib/queries";
import { transitions, type Transition } from "../lib/tickets";
import { formatDateTime } from "../lib/format";
import { ErrorBox, PageHead, SeverityTag, TicketStatusTag } from "../components/common";
import { PageSpinner } from "../components/shell";
import TicketFormModal from "../components/TicketFormModal";
import ResolveTicketModal from "../components/ResolveTicketModal";

export default function TicketPage() {
  const { no = "" } = useParams();
  const t = useT();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const canWrite = useCan("engineer");
  const q = useQuery({ queryKey: ["ticket", no], queryFn: () => api.ticket(no) });
  const [editing, setEditing] = useState(false);
  const [closing, setClosing] = useState<Transition | null>(null);
  const [resolving, setResolving] = useState(false);
  const [conflict, setConflict] = useState<string | null>(null);

  const setData = (d: TicketDetail) => {
    qc.setQueryData(["ticket", no], d);
    void qc.invalidateQueries({ queryKey: ["tickets"] });
  };
  const reload = () => {
    setConflict(null);
    setEditing(false);
    void q.refetch();
  };

  const move = useMutation({
    mutationFn: ({ to, reason }: { to: TicketStatus; reason?: string }) =>
      api.updateTicket(no, { status: to, version: q.data!.version, ...(reason ? { reason } : {}) }),
    onSuccess: (d) => {
      setData(d);
      setClosing(null);
      void message.success(t("tickets.moved", { status: t(`tickets.status.${d.status}` as MessageKey) }));
    },
    onError: (e) => {
      setClosing(null);
      if (e instanceof ApiError && e.status === 409) setConflict(e.message);
      else void message.error(errorMessage(e));
    },
  });

  if (q.isPending) return <PageSpinner />;
  if (q.isError) {
    if (q.error instanceof ApiError && q.error.status === 404)
      return <Result status="404" title="404" subTitle={q.error.message} extra={<Link to="/tickets">{t("nav.tickets")}</Link>} />;
    return <ErrorBox error={q.error} onRetry={() => void q.refetch()} />;
  }
  const d = q.data;
  const actions = transitions(d.status);

  return (
    <>
      <PageHead
        title={
          <Space wrap>
            <span className="mono">{d.no}</span>
            <TicketStatusTag status={d.status} />
            <SeverityTag severity={d.severity} />
          </Space>
        }
        extra={<Button icon={<ReloadOutlined />} onClick={reload} aria-label={t("common.refresh")} />}
      />
      {conflict && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 16 }}
          message={t("tickets.conflict")}
          description={conflict}
          action={<Button size="small" onClick={reload}>{t("tickets.reload")}</Button>}
          data-testid="ticket-conflict"
        />
      )}
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={15}>
          <Card
            title={d.title}
            extra={
              canWrite && (
                <Button icon={<EditOutlined />} onClick={() => setEditing(true)} data-testid="ticket-edit">
                  {t("common.edit")}
                </Button>
              )
            }
          >
            <Descriptions column={{ xs: 1, sm: 2 }} size="small">
              <Descriptions.Item label={t("tickets.status")}>
                <TicketStatusTag status={d.status} />
              </Descriptions.Item>
              <Descriptions.Item label={t("tickets.severity")}>
                <SeverityTag severity={d.severity} />
              </Descriptions.Item>
              <Descriptions.Item label={t("tickets.assignee")}>{d.assignee ?? t("tickets.unassigned")}</Descriptions.Item>
              <Descriptions.Item label={t("common.createdBy")}>{d.created_by}</Descriptions.Item>
              <Descriptions.Item label={t("common.createdAt")}>{formatDateTime(d.created_at)}</Descriptions.Item>
              <Descriptions.Item label={t("common.updatedAt")}>{formatDateTime(d.updated_at)}</Descriptions.Item>
              {d.analysis_id && (
                <Descriptions.Item label={t("tickets.fromAnalysis")} span={2}>
                  <AnalysisLink id={d.analysis_id} />
                </Descriptions.Item>
              )}
            </Descriptions>
            <Typography.Title level={5}>{t("tickets.rootCause")}</Typography.Title>
            <Typography.Paragraph style={{ whiteSpace: "pre-wrap" }}>{d.root_cause || "—"}</Typography.Paragraph>
            <Typography.Title level={5}>{t("tickets.description")}</Typography.Title>
            <Typography.Paragraph style={{ whiteSpace: "pre-wrap", marginBottom: 0 }}>{d.description || "—"}</Typography.Paragraph>
            {(d.confirmed_root_cause || d.resolution) && (
              <div data-testid="ticket-confirmation">
                <Typography.Title level={5} style={{ marginTop: 16 }}>
                  {t("tickets.confirmedRootCause")}
                </Typography.Title>
                <Typography.Paragraph style={{ marginBottom: 4 }}>
                  <span className="mono" data-testid="ticket-confirmed-cause">
                    {d.confirmed_root_cause || "—"}
                  </span>
                  {d.confirmed_by && (
                    <Typography.Text type="secondary" style={{ marginLeft: 8, fontSize: 12 }}>
                      {t("tickets.confirmedBy", { who: d.confirmed_by, time: formatDateTime(d.confirmed_at) })}
                    </Typography.Text>
                  )}
                </Typography.Paragraph>
                <Typography.Title level={5}>{t("tickets.resolution")}</Typography.Title>
                <Typography.Paragraph style={{ whiteSpace: "pre-wrap", marginBottom: 0 }}>{d.resolution || "—"}</Typography.Paragraph>
              </div>
            )}
          </Card>
          {canWrite && (
            <Card size="small" style={{ marginTop: 16 }} title={t("common.actions")}>
              {actions.length ? (
                <Space wrap>
                  {actions.map((a) => (
                    <Button
                      key={a.action}
                      type={a.action === "start" || a.action === "resolve" || a.action === "close" ? "primary" : "default"}
                      danger={a.action === "closeFalseAlarm"}
                      loading={move.isPending && move.variables?.to === a.to}
                      onClick={() => (a.needsReason ? setClosing(a) : a.to === "resolved" ? setResolving(true) : move.mutate({ to: a.to }))}
                      data-testid={`ticket-action-${a.to}`}
                    >
                      {t(`tickets.action.${a.action}` as MessageKey)}
                    </Button>
                  ))}
                </Space>
              ) : (
                <Typography.Text type="secondary">{t("tickets.noActions")}</Typography.Text>
              )}
            </Card>
          )}
        </Col>
        <Col xs={24} lg={9}>
          <Card title={t("tickets.history")} size="small">
            <Timeline items={d.history.map((h) => ({ key: h.id, color: historyColor(h), children: <HistoryItem h={h} /> }))} />
          </Card>
        </Col>
      </Row>
      {editing && (
        <TicketFormModal
          mode="edit"
          ticket={d}
          onClose={() => setEditing(false)}
          onConflict={reload}
          onDone={(nd) => {
            setEditing(false);
            setData(nd);
            void message.success(t("tickets.updated"));
          }}
        />
      )}
      {resolving && (
        <ResolveTicketModal
          ticket={d}
          onCancel={() => setResolving(false)}
          onConflict={(msg) => {
            setResolving(false);
            setConflict(msg);
          }}
          onDone={(nd) => {
            setResolving(false);
            setData(nd);
            void message.success(t("tickets.moved", { status: t(`tickets.status.${nd.status}` as MessageKey) }));
          }}
        />
      )}
      {closing && (
        <ReasonModal
          reopen={closing.action === "reopenClosed"}
          onCancel={() => setClosing(null)}
          loading={move.isPending}
          onOk={(reason) => move.mutate({ to: closing.to, reason })}
        />
      )}
    </>
  );
}

function historyColor(h: TicketHistoryEntry): string {
  if (h.action === "created") return "blue";
  if (h.to_status === "resolved") return "green";
  if (h.to_status === "closed") return "gray";
  if (h.action === "status") return "orange";
  return "blue";
}

function HistoryItem({ h }: { h: TicketHistoryEntry }) {
  const t = useT();
  const changes = h.changes && typeof h.changes === "object" ? Object.entries(h.changes as Record<string, { from?: unknown; to?: unknown }>) : [];
  const key = `tickets.hist.${h.action}` as MessageKey;
  return (
    <div>
      <div>
        <strong>{h.actor}</strong> {["created", "status", "edit"].includes(h.action) ? t(key) : h.action}
        {h.from_status && h.to_status && (
          <>
            {" "}
            <TicketStatusTag status={h.from_status} /> → <TicketStatusTag status={h.to_status} />
          </>
        )}
      </div>
      {changes
        .filter(([k]) => k !== "status")
        .map(([k, v]) => (
          <div key={k} style={{ fontSize: 12 }}>
            <Tag>{k}</Tag>
            <Typography.Text delete type="secondary">
              {show(v?.from)}
            </Typography.Text>{" "}
            → {show(v?.to)}
          </div>
        ))}
      {h.reason && (
        <div style={{ fontSize: 12 }}>
          {t("tickets.reason")}: {h.reason}
        </div>
      )}
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {formatDateTime(h.at)}
      </Typography.Text>
    </div>
  );
}

function show(v: unknown): string {
  if (v === null || v === undefined || v === "") return "∅";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
}

function ReasonModal({ onOk, onCancel, loading, reopen }: { onOk: (reason: string) => void; onCancel: () => void; loading: boolean; reopen: boolean }) {
  const t = useT();
  const [form] = Form.useForm<{ reason: string }>();
  return (
    <Modal
      open
      title={reopen ? t("tickets.action.reopenClosed") : t("tickets.action.closeFalseAlarm")}
      onCancel={onCancel}
      onOk={() => form.submit()}
      confirmLoading={loading}
      okText={reopen ? t("tickets.action.reopenClosed") : t("tickets.action.close")}
      cancelText={t("common.cancel")}
      okButtonProps={{ danger: !reopen, id: "reason-ok" }}
    >
      <Typography.Paragraph type="secondary">{reopen ? t("tickets.reopenReason") : t("tickets.reasonRequired")}</Typography.Paragraph>
      <Form form={form} layout="vertical" onFinish={(v) => onOk(v.reason.trim())}>
        <Form.Item name="reason" label={t("tickets.reason")} rules={[{ required: true, whitespace: true }]}>
          <Input.TextArea id="close-reason" autoSize={{ minRows: 2 }} autoFocus />
        </Form.Item>
      </Form>
    </Modal>
  );
}

/** A ticket's analysis, linked by its title (its id when it cannot be read). */
function AnalysisLink({ id }: { id: string }) {
  const a = useQuery({ queryKey: ["analysis", id], queryFn: () => api.analysis(id), retry: false, staleTime: 60_000 });
  return (
    <Link to={`/analyses/${id}`} data-testid="ticket-analysis-link">
      {a.data?.title ? a.data.title : <span className="mono">{id}</span>}
    </Link>
  );
}
