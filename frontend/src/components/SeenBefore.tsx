// "Seen before": the past incidents most similar to this analysis (incident memory,
// `GET /api/analysis/{id}/similar`), with the current state of their tickets.
import { Card, Empty, List, Progress, Space, Tag, Typography } from "antd";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api } from "../api/endpoints";
import type { PastIncident } from "../api/types";
import { useT } from "../i18n";
import { formatWithZone } from "../lib/understood";

/** The card, fetched once the analysis completed (signatures are stored then). */
export default function SeenBefore({ analysisId, completed }: { analysisId: string; completed: boolean }) {
  const q = useQuery({
    queryKey: ["analysis", analysisId, "similar"],
    queryFn: () => api.similarAnalyses(analysisId),
    enabled: completed,
    staleTime: 30_000,
  });
  if (!completed || q.isError) return null;
  return <SeenBeforeCard items={q.data} loading={q.isPending} />;
}

/** The list itself, best match first. */
export function SeenBeforeCard({ items, loading }: { items?: PastIncident[]; loading?: boolean }) {
  const t = useT();
  return (
    <Card
      size="small"
      data-testid="seen-before"
      loading={loading}
      title={
        <Space>
          <span>{t("memory.title")}</span>
          <Typography.Text type="secondary" style={{ fontWeight: "normal" }}>
            {t("memory.hint")}
          </Typography.Text>
        </Space>
      }
    >
      {!items || items.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("memory.none")} />
      ) : (
        <List
          size="small"
          dataSource={items}
          rowKey={(p) => p.analysis_id}
          renderItem={(p) => (
            <List.Item data-testid="seen-before-item">
              <Space direction="vertical" size={2} style={{ width: "100%" }}>
                <Space wrap>
                  <Progress
                    type="circle"
                    size={36}
                    percent={Math.round(p.similarity * 100)}
                    format={() => p.similarity.toFixed(2)}
                    aria-label={t("memory.similarity")}
                  />
                  <Link to={`/analyses/${encodeURIComponent(p.analysis_id)}`}>{p.title || p.alert_name}</Link>
                  <Typography.Text type="secondary">{formatWithZone(p.incident_at)}</Typography.Text>
                  {p.ticket_no ? (
                    <Link to={`/tickets/${encodeURIComponent(p.ticket_no)}`} data-testid="seen-before-ticket">
                      <Tag color="blue">{p.ticket_no}</Tag>
                    </Link>
                  ) : (
                    <Tag>{t("memory.noTicket")}</Tag>
                  )}
                  {p.ticket_status && <Tag>{p.ticket_status}</Tag>}
                </Space>
                <Typography.Text>
                  {p.confirmed_root_cause
                    ? t("memory.confirmed", { cause: p.confirmed_root_cause })
                    : p.top_suspect
                      ? t("memory.topSuspect", { suspect: p.top_suspect })
                      : t("memory.unconfirmed")}
                  {p.resolution ? ` · ${t("memory.resolution", { resolution: p.resolution })}` : ""}
                </Typography.Text>
                {p.shared.length > 0 && (
                  <Typography.Text type="secondary">{t("memory.shared", { what: p.shared.join(", ") })}</Typography.Text>
                )}
              </Space>
            </List.Item>
          )}
        />
      )}
    </Card>
  );
}
