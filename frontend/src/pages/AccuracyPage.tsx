// The analyzer's accuracy on real incidents: of the resolved tickets with a confirmed
// root cause, how often it was the analysis' #1 suspect / in its top 3, by month and by
// alert name, with the misses linking to their tickets (GET /api/stats/accuracy).
import { useState } from "react";
import { Link } from "react-router-dom";
import { Button, Card, Col, Empty, Row, Segmented, Space, Statistic, Table, Tag, Typography } from "antd";
import { ReloadOutlined } from "@ant-design/icons";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api } from "../api/endpoints";
import type { AccuracyCount, AccuracyMiss, AlertAccuracy, MonthAccuracy } from "../api/types";
import { useT } from "../i18n";
import { formatDateTime } from "../lib/format";
import { formatShare, monthsRange } from "../lib/accuracy";
import { ErrorBox, PageHead } from "../components/common";
import { PageSpinner } from "../components/shell";

const RANGES = [3, 12, null] as const;
type Range = (typeof RANGES)[number];

export default function AccuracyPage() {
  const t = useT();
  const [range, setRange] = useState<Range>(12);
  const q = useQuery({
    queryKey: ["accuracy", range],
    queryFn: () => api.accuracy(monthsRange(range)),
    placeholderData: keepPreviousData,
  });

  const countColumns = [
    { title: t("accuracy.confirmed"), dataIndex: "confirmed", align: "right" as const, width: 110 },
    {
      title: t("accuracy.top1"),
      key: "top1",
      align: "right" as const,
      width: 130,
      render: (_: unknown, c: AccuracyCount) => `${c.hit_at_1} (${formatShare(c.share_at_1)})`,
    },
    {
      title: t("accuracy.top3"),
      key: "top3",
      align: "right" as const,
      width: 130,
      render: (_: unknown, c: AccuracyCount) => `${c.hit_at_3} (${formatShare(c.share_at_3)})`,
    },
    { title: t("accuracy.unconfirmed"), dataIndex: "unconfirmed", align: "right" as const, width: 120 },
  ];

  return (
    <>
      <PageHead
        title={t("accuracy.title")}
        extra={
          <>
            <Segmented<Range>
              value={range}
              onChange={setRange}
              options={RANGES.map((r) => ({ value: r, label: r === null ? t("accuracy.all") : t("accuracy.months", { n: r }) }))}
              data-testid="accuracy-range"
            />
            <Button icon={<ReloadOutlined />} onClick={() => void q.refetch()} aria-label={t("common.refresh")} />
          </>
        }
      />
      <Typography.Paragraph type="secondary">{t("accuracy.intro")}</Typography.Paragraph>
      {q.isPending ? (
        <PageSpinner />
      ) : q.isError ? (
        <ErrorBox error={q.error} onRetry={() => void q.refetch()} />
      ) : (
        <Space direction="vertical" size={16} style={{ width: "100%" }}>
          <Row gutter={[16, 16]} data-testid="accuracy-totals">
            <Col xs={12} md={6}>
              <Card size="small">
                <Statistic title={t("accuracy.top1Share")} value={formatShare(q.data.totals.share_at_1)} data-testid="accuracy-top1" />
                <Typography.Text type="secondary">
                  {t("accuracy.ofConfirmed", { hits: q.data.totals.hit_at_1, n: q.data.totals.confirmed })}
                </Typography.Text>
              </Card>
            </Col>
            <Col xs={12} md={6}>
              <Card size="small">
                <Statistic title={t("accuracy.top3Share")} value={formatShare(q.data.totals.share_at_3)} data-testid="accuracy-top3" />
                <Typography.Text type="secondary">
                  {t("accuracy.ofConfirmed", { hits: q.data.totals.hit_at_3, n: q.data.totals.confirmed })}
                </Typography.Text>
              </Card>
            </Col>
            <Col xs={12} md={6}>
              <Card size="small">
                <Statistic title={t("accuracy.confirmedTickets")} value={q.data.totals.confirmed} data-testid="accuracy-confirmed" />
              </Card>
            </Col>
            <Col xs={12} md={6}>
              <Card size="small">
                <Statistic title={t("accuracy.unconfirmedTickets")} value={q.data.totals.unconfirmed} />
                {q.data.without_analysis > 0 && (
                  <Typography.Text type="secondary">{t("accuracy.withoutAnalysis", { n: q.data.without_analysis })}</Typography.Text>
                )}
              </Card>
            </Col>
          </Row>
          {q.data.totals.confirmed === 0 && q.data.totals.unconfirmed === 0 ? (
            <Card>
              <Empty description={t("accuracy.empty")} />
            </Card>
          ) : (
            <>
              <Row gutter={[16, 16]}>
                <Col xs={24} xl={12}>
                  <Card size="small" title={t("accuracy.byMonth")}>
                    <Table<MonthAccuracy>
                      size="small"
                      rowKey="month"
                      pagination={false}
                      dataSource={q.data.by_month}
                      columns={[{ title: t("accuracy.month"), dataIndex: "month", width: 100 }, ...countColumns]}
                      scroll={{ x: true }}
                      data-testid="accuracy-by-month"
                    />
                  </Card>
                </Col>
                <Col xs={24} xl={12}>
                  <Card size="small" title={t("accuracy.byAlert")}>
                    <Table<AlertAccuracy>
                      size="small"
                      rowKey="alert_name"
                      pagination={q.data.by_alert.length > 10 ? { pageSize: 10, size: "small" } : false}
                      dataSource={q.data.by_alert}
                      columns={[
                        {
                          title: t("accuracy.alert"),
                          dataIndex: "alert_name",
                          ellipsis: true,
                          render: (n: string) => n || <Typography.Text type="secondary">—</Typography.Text>,
                        },
                        ...countColumns,
                      ]}
                      scroll={{ x: true }}
                      data-testid="accuracy-by-alert"
                    />
                  </Card>
                </Col>
              </Row>
              <Card
                size="small"
                title={
                  q.data.misses_total > q.data.misses.length
                    ? t("accuracy.missesSome", { n: q.data.misses_total, shown: q.data.misses.length })
                    : t("accuracy.misses", { n: q.data.misses_total })
                }
              >
                <Table<AccuracyMiss>
                  size="small"
                  rowKey="ticket_no"
                  dataSource={q.data.misses}
                  pagination={q.data.misses.length > 20 ? { pageSize: 20, size: "small" } : false}
                  locale={{ emptyText: t("accuracy.noMisses") }}
                  scroll={{ x: true }}
                  data-testid="accuracy-misses"
                  columns={[
                    {
                      title: t("tickets.no"),
                      dataIndex: "ticket_no",
                      width: 170,
                      render: (no: string) => (
                        <Link to={`/tickets/${encodeURIComponent(no)}`} className="mono">
                          {no}
                        </Link>
                      ),
                    },
                    { title: t("accuracy.alert"), dataIndex: "alert_name", ellipsis: true },
                    {
                      title: t("accuracy.analyzerTop"),
                      key: "top",
                      render: (_: unknown, m: AccuracyMiss) =>
                        m.analyzer_top ? <span className="mono">{m.analyzer_top}</span> : <Typography.Text type="secondary">{t("accuracy.noSuspect")}</Typography.Text>,
                    },
                    {
                      title: t("accuracy.confirmedCause"),
                      dataIndex: "confirmed_root_cause",
                      render: (c: string) => <span className="mono">{c}</span>,
                    },
                    {
                      title: t("accuracy.rank"),
                      dataIndex: "rank",
                      width: 90,
                      render: (r?: number) => (r ? <Tag color="gold">#{r}</Tag> : <Tag>{t("accuracy.notTop3")}</Tag>),
                    },
                    { title: t("common.createdAt"), dataIndex: "created_at", width: 170, render: (v: string) => formatDateTime(v) },
                  ]}
                />
              </Card>
            </>
          )}
        </Space>
      )}
    </>
  );
}
