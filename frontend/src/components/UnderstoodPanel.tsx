// What was understood of the alert being typed, before "Start": its time (with date
// and zone) and scope, each editable; the notices say what was not understood.
import { Alert, Card, Col, DatePicker, Form, Input, Row, Select, Space, Spin, Tag, Tooltip, Typography } from "antd";
import dayjs from "dayjs";
import type { UnderstoodAlert } from "../api/types";
import { useT } from "../i18n";
import { formatWithZone, type Corrections } from "../lib/understood";
import { formatTime } from "../lib/format";

export function UnderstoodPanel({
  understood: u,
  loading,
  corrections: c,
  onChange,
}: {
  understood: UnderstoodAlert | undefined;
  loading: boolean;
  corrections: Corrections;
  onChange: (c: Corrections) => void;
}) {
  const t = useT();
  if (!u) return loading ? <Spin size="small" style={{ marginTop: 12 }} /> : null;
  const others = [...u.pods, ...u.hosts];
  return (
    <Card
      size="small"
      style={{ marginTop: 12 }}
      title={
        <Space>
          {t("understood.title")}
          {loading && <Spin size="small" />}
        </Space>
      }
      data-testid="understood"
    >
      {u.notices.map((n, i) => (
        <Alert key={i} type="warning" showIcon message={n} style={{ marginBottom: 8 }} data-testid="understood-notice" />
      ))}
      <Form layout="vertical">
        <Row gutter={16}>
          <Col xs={24} md={12}>
            <Form.Item
              label={
                <Tooltip title={t("understood.timeHint", { confidence: Math.round(u.starts_at_confidence * 100) })}>
                  <span className="hint">{t("understood.time")}</span>
                </Tooltip>
              }
              extra={<span data-testid="understood-time">{formatWithZone(u.starts_at)}</span>}
            >
              <DatePicker
                showTime={{ format: "HH:mm:ss" }}
                format="YYYY-MM-DD HH:mm:ss"
                value={dayjs(c.starts_at ?? u.starts_at)}
                allowClear={false}
                onChange={(d) => onChange({ ...c, starts_at: d ? d.toISOString() : undefined })}
                style={{ width: "100%" }}
                id="understood-starts-at"
              />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item label={t("understood.services")}>
              <Select
                mode="tags"
                value={c.services ?? u.services}
                onChange={(v: string[]) => onChange({ ...c, services: v })}
                options={u.known_services.map((s) => ({ value: s, label: s }))}
                placeholder={t("understood.servicesPlaceholder")}
                data-testid="understood-services"
                id="understood-services"
              />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item label={t("understood.namespace")}>
              <Input value={c.namespace ?? u.namespace ?? ""} onChange={(e) => onChange({ ...c, namespace: e.target.value })} id="understood-namespace" />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item label={t("understood.instances")} extra={others.length ? others.join(", ") : undefined}>
              <Select mode="tags" value={c.instances ?? u.instances} onChange={(v: string[]) => onChange({ ...c, instances: v })} open={false} />
            </Form.Item>
          </Col>
        </Row>
      </Form>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {t("understood.window", {
          baseline: formatTime(u.window.baseline_start),
          incident: formatTime(u.window.incident_start),
          end: formatTime(u.window.incident_end),
        })}{" "}
        <Tag bordered={false}>{u.format}</Tag>
        <Tag bordered={false}>{u.language}</Tag>
      </Typography.Text>
    </Card>
  );
}
