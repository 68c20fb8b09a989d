import { Link } from "react-router-dom";
import { Button, DatePicker, Empty, Input, Select, Table, Tag, Typography } from "antd";
import { ReloadOutlined } from "@ant-design/icons";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import dayjs from "dayjs";
import { api } from "../api/endpoints";
import type { AnalysisStatus, AnalysisSummary } from "../api/types";
import { useT, type MessageKey } from "../i18n";
import { useUrlFilters } from "../lib/useUrlFilters";
import { isFinal } from "../lib/analysis";
import { formatDateTime, formatDuration } from "../lib/format";
import { AnalysisStatusTag, ErrorBox, PageHead } from "../components/common";

const STATUSES: AnalysisStatus[] = ["pending", "collecting", "analyzing", "completed", "failed"];
const KEYS = ["status", "q", "since", "until"] as const;

export default function HistoryPage() {
  const t = useT();
  const { values: f, page, pageSize, set, reset } = useUrlFilters(KEYS);
  const list = useQuery({
    queryKey: ["analyses", f, page, pageSize],
    queryFn: () =>
      api.analyses({
        page,
        page_size: pageSize,
        status: f.status as AnalysisStatus | undefined,
        q: f.q,
        since: f.since,
        until: f.until,
      }),
    placeholderData: keepPreviousData,
    // Keep running analyses moving in the list.
    refetchInterval: (q) => (q.state.data?.items.some((a) => !isFinal(a.status)) ? 5_000 : false),
  });

  return (
    <>
      <PageHead
        title={t("history.title")}
        extra={<Button icon={<ReloadOutlined />} onClick={() => void list.refetch()} aria-label={t("common.refresh")} />}
      />
      <div className="filters">
        <Input.Search
          allowClear
          placeholder={t("history.searchHint")}
          defaultValue={f.q}
          onSearch={(q) => set({ q })}
          style={{ width: 300 }}
          id="history-search"
        />
        <Select<AnalysisStatus>
          allowClear
          placeholder={t("common.status")}
          value={f.status as AnalysisStatus | undefined}
          onChange={(status) => set({ status })}
          options={STATUSES.map((s) => ({ value: s, label: t(`analysis.status.${s}` as MessageKey) }))}
          style={{ width: 150 }}
        />
        <DatePicker.RangePicker
          showTime={{ format: "HH:mm" }}
          format="YYYY-MM-DD HH:mm"
          value={[f.since ? dayjs(f.since) : null, f.until ? dayjs(f.until) : null]}
          onChange={(r) => set({ since: r?.[0]?.toISOString(), until: r?.[1]?.toISOString() })}
          allowEmpty={[true, true]}
        />
        <Button onClick={reset}>{t("common.reset")}</Button>
      </div>
      {list.isError && <ErrorBox error={list.error} onRetry={() => void list.refetch()} />}
      <Table<AnalysisSummary>
        rowKey="id"
        loading={list.isFetching && !list.data}
        dataSource={list.data?.items ?? []}
        scroll={{ x: 1100 }}
        locale={{ emptyText: <Empty description={t("history.empty")} /> }}
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
            title: t("history.alert"),
            dataIndex: "title",
            render: (title: string, a) => (
              <Link to={`/analyses/${a.id}`} data-testid="history-row-link">
                <Typography.Text ellipsis={{ tooltip: a.raw_alert_preview }} style={{ maxWidth: 360, color: "inherit" }}>
                  {title || a.id}
                </Typography.Text>
              </Link>
            ),
          },
          {
            title: t("history.scope"),
            key: "scope",
            width: 220,
            render: (_, a) =>
              a.services.length || a.instances.length ? (
                <span data-testid="history-scope">
                  {a.services.slice(0, 2).map((x) => (
                    <Tag color="blue" key={x}>
                      {x}
                    </Tag>
                  ))}
                  {a.instances.slice(0, 2).map((x) => (
                    <Tag key={x} className="mono">
                      {x}
                    </Tag>
                  ))}
                </span>
              ) : (
                "—"
              ),
          },
          { title: t("history.alertTime"), dataIndex: "alert_start", width: 170, render: (x?: string | null) => formatDateTime(x) },
          { title: t("common.status"), dataIndex: "status", width: 130, render: (s: AnalysisStatus) => <AnalysisStatusTag status={s} /> },
          { title: t("analysis.analyzer"), dataIndex: "analyzer", width: 130, responsive: ["lg"], render: (x?: string | null) => x ?? "—" },
          { title: t("analysis.by"), dataIndex: "created_by", width: 200, responsive: ["xl"] },
          { title: t("common.createdAt"), dataIndex: "created_at", width: 170, render: formatDateTime },
          {
            title: t("analysis.duration"),
            key: "took",
            width: 100,
            responsive: ["md"],
            render: (_, a) => formatDuration(a.duration_ms),
          },
        ]}
      />
    </>
  );
}
