import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { App, Button, Checkbox, Empty, Input, Select, Table, Typography } from "antd";
import { PlusOutlined, ReloadOutlined } from "@ant-design/icons";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/endpoints";
import type { Severity, Ticket, TicketStatus } from "../api/types";
import { useT, type MessageKey } from "../i18n";
import { useCan, useMe } from "../lib/queries";
import { useUrlFilters } from "../lib/useUrlFilters";
import { formatDateTime } from "../lib/format";
import { ErrorBox, PageHead, SeverityTag, TicketStatusTag } from "../components/common";
import TicketFormModal from "../components/TicketFormModal";
import { SEVERITIES } from "../lib/tickets";

const STATUSES: TicketStatus[] = ["open", "processing", "resolved", "closed"];
const KEYS = ["status", "severity", "assignee", "q"] as const;

export default function TicketsPage() {
  const t = useT();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const me = useMe().data;
  const canCreate = useCan("engineer");
  const [creating, setCreating] = useState(false);
  const { values: f, page, pageSize, set, reset } = useUrlFilters(KEYS);
  const list = useQuery({
    queryKey: ["tickets", f, page, pageSize],
    queryFn: () =>
      api.tickets({
        page,
        page_size: pageSize,
        status: f.status as TicketStatus | undefined,
        severity: f.severity as Severity | undefined,
        assignee: f.assignee,
        q: f.q,
      }),
    placeholderData: keepPreviousData,
  });

  return (
    <>
      <PageHead
        title={t("tickets.title")}
        extra={
          <>
            <Button icon={<ReloadOutlined />} onClick={() => void list.refetch()} aria-label={t("common.refresh")} />
            {canCreate && (
              <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="ticket-new">
                {t("tickets.new")}
              </Button>
            )}
          </>
        }
      />
      <div className="filters">
        <Input.Search allowClear placeholder={t("tickets.search")} defaultValue={f.q} onSearch={(q) => set({ q })} style={{ width: 240 }} />
        <Select<TicketStatus>
          allowClear
          placeholder={t("tickets.status")}
          value={f.status as TicketStatus | undefined}
          onChange={(status) => set({ status })}
          options={STATUSES.map((s) => ({ value: s, label: t(`tickets.status.${s}` as MessageKey) }))}
          style={{ width: 140 }}
          data-testid="ticket-status-filter"
        />
        <Select<Severity>
          allowClear
          placeholder={t("tickets.severity")}
          value={f.severity as Severity | undefined}
          onChange={(severity) => set({ severity })}
          options={SEVERITIES.map((s) => ({ value: s, label: s }))}
          style={{ width: 120 }}
        />
        <Input.Search
          allowClear
          placeholder={t("tickets.assignee")}
          defaultValue={f.assignee}
          key={f.assignee ?? ""}
          onSearch={(assignee) => set({ assignee })}
          style={{ width: 220 }}
        />
        {me && (
          <Checkbox checked={!!me && f.assignee === me.email} onChange={(e) => set({ assignee: e.target.checked ? me.email : undefined })} style={{ alignSelf: "center" }}>
            {t("tickets.mine")}
          </Checkbox>
        )}
        <Button onClick={reset}>{t("common.reset")}</Button>
      </div>
      {list.isError && <ErrorBox error={list.error} onRetry={() => void list.refetch()} />}
      <Table<Ticket>
        rowKey="no"
        loading={list.isFetching && !list.data}
        dataSource={list.data?.items ?? []}
        scroll={{ x: 900 }}
        locale={{ emptyText: <Empty description={t("tickets.empty")} /> }}
        pagination={{
          current: page,
          pageSize,
          total: list.data?.total ?? 0,
          showSizeChanger: true,
          showTotal: (n) => t("common.total", { n }),
          onChange: (p, ps) => set({ page: p, page_size: ps === 20 ? undefined : ps }),
        }}
        columns={[
          {
            title: t("tickets.no"),
            dataIndex: "no",
            width: 190,
            render: (no: string) => (
              <Link to={`/tickets/${encodeURIComponent(no)}`} className="mono" data-testid="ticket-link">
                {no}
              </Link>
            ),
          },
          {
            title: t("tickets.titleField"),
            dataIndex: "title",
            render: (s: string) => (
              <Typography.Text ellipsis={{ tooltip: s }} style={{ maxWidth: 420 }}>
                {s}
              </Typography.Text>
            ),
          },
          { title: t("tickets.severity"), dataIndex: "severity", width: 80, render: (s: Severity) => <SeverityTag severity={s} /> },
          { title: t("tickets.status"), dataIndex: "status", width: 110, render: (s: TicketStatus) => <TicketStatusTag status={s} /> },
          {
            title: t("tickets.assignee"),
            dataIndex: "assignee",
            width: 200,
            responsive: ["md"],
            render: (a?: string | null) => a ?? <Typography.Text type="secondary">{t("tickets.unassigned")}</Typography.Text>,
          },
          { title: t("common.updatedAt"), dataIndex: "updated_at", width: 170, responsive: ["lg"], render: formatDateTime },
        ]}
      />
      {creating && (
        <TicketFormModal
          mode="create"
          initial={{}}
          onClose={() => setCreating(false)}
          onDone={(ticket) => {
            setCreating(false);
            void qc.invalidateQueries({ queryKey: ["tickets"] });
            void message.success(t("tickets.created", { no: ticket.no }));
            navigate(`/tickets/${encodeURIComponent(ticket.no)}`);
          }}
        />
      )}
    </>
  );
}
