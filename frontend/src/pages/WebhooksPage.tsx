// Webhook endpoints (admins): Alertmanager / Grafana senders post alerts here.
import { useState } from "react";
import { Alert, App, Button, Form, Input, InputNumber, Modal, Popconfirm, Radio, Space, Switch, Table, Tag, Typography } from "antd";
import { DeleteOutlined, KeyOutlined, PlusOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/endpoints";
import { errorMessage } from "../api/client";
import type { Webhook, WebhookInput, WebhookKind, WebhookWithToken } from "../api/types";
import { useT } from "../i18n";
import { formatDateTime } from "../lib/format";
import { alertmanagerSnippet, endpointUrl, grafanaSnippet } from "../lib/webhooks";
import { CodeBlock, ErrorBox, PageHead } from "../components/common";

interface Values {
  name: string;
  kind: WebhookKind;
  auto_analyze: boolean;
  group_alerts: boolean;
  dedup_window_minutes?: number | null;
}

export default function WebhooksPage() {
  const t = useT();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ["webhooks"], queryFn: () => api.webhooks() });
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<WebhookWithToken | null>(null);
  const rotate = useMutation({
    mutationFn: (w: Webhook) => api.rotateWebhookToken(w.id),
    onSuccess: (w) => setShown(w),
    onError: (e) => void message.error(errorMessage(e)),
  });
  const del = useMutation({
    mutationFn: (w: Webhook) => api.deleteWebhook(w.id),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["webhooks"] }),
    onError: (e) => void message.error(errorMessage(e)),
  });

  return (
    <>
      <PageHead
        title={t("webhooks.title")}
        extra={
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="webhook-add">
            {t("webhooks.new")}
          </Button>
        }
      />
      {list.isError && <ErrorBox error={list.error} onRetry={() => void list.refetch()} />}
      <Table<Webhook>
        rowKey="id"
        loading={list.isPending}
        dataSource={list.data?.items ?? []}
        pagination={false}
        scroll={{ x: 900 }}
        locale={{ emptyText: t("webhooks.empty") }}
        columns={[
          { title: t("common.name"), dataIndex: "name", render: (n: string) => <strong>{n}</strong> },
          { title: t("webhooks.kind"), dataIndex: "kind", width: 130, render: (k: WebhookKind) => <Tag>{k}</Tag> },
          {
            title: t("webhooks.path"),
            dataIndex: "path",
            render: (p: string) => (
              <Typography.Text className="mono" copyable>
                {endpointUrl(window.location.origin, p)}
              </Typography.Text>
            ),
          },
          {
            title: t("webhooks.lastDelivery"),
            dataIndex: "last_received_at",
            width: 180,
            render: (x?: string | null) => (x ? formatDateTime(x) : <Typography.Text type="secondary">{t("common.never")}</Typography.Text>),
          },
          { title: t("common.status"), dataIndex: "enabled", width: 90, render: (e: boolean) => (e ? <Tag color="success">on</Tag> : <Tag>off</Tag>) },
          {
            title: t("common.actions"),
            key: "actions",
            width: 200,
            render: (_, w) => (
              <Space>
                <Button size="small" icon={<KeyOutlined />} loading={rotate.isPending && rotate.variables?.id === w.id} onClick={() => rotate.mutate(w)}>
                  {t("webhooks.rotate")}
                </Button>
                <Popconfirm title={t("webhooks.deleteConfirm", { name: w.name })} onConfirm={() => del.mutate(w)}>
                  <Button size="small" danger icon={<DeleteOutlined />} aria-label={t("common.delete")} />
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      {creating && (
        <CreateModal
          onClose={() => setCreating(false)}
          onCreated={(w) => {
            setCreating(false);
            setShown(w);
            void qc.invalidateQueries({ queryKey: ["webhooks"] });
          }}
        />
      )}
      {shown && <TokenModal webhook={shown} onClose={() => setShown(null)} />}
    </>
  );
}

function CreateModal({ onClose, onCreated }: { onClose: () => void; onCreated: (w: WebhookWithToken) => void }) {
  const t = useT();
  const [form] = Form.useForm<Values>();
  const create = useMutation({
    mutationFn: (v: Values) => {
      const input: WebhookInput = {
        name: v.name.trim(),
        kind: v.kind,
        options: {
          auto_analyze: v.auto_analyze,
          group_alerts: v.group_alerts,
          severities: [],
          dedup_window_minutes: v.dedup_window_minutes ?? 30,
        },
      };
      return api.createWebhook(input);
    },
    onSuccess: onCreated,
  });
  return (
    <Modal open title={t("webhooks.new")} onCancel={onClose} onOk={() => form.submit()} confirmLoading={create.isPending} okText={t("common.create")}>
      {create.isError && <ErrorBox error={create.error} />}
      <Form<Values>
        form={form}
        layout="vertical"
        initialValues={{ kind: "alertmanager", auto_analyze: true, group_alerts: true }}
        onFinish={(v) => create.mutate(v)}
      >
        <Form.Item name="name" label={t("common.name")} rules={[{ required: true, whitespace: true }]}>
          <Input id="webhook-name" autoFocus />
        </Form.Item>
        <Form.Item name="kind" label={t("webhooks.kind")}>
          <Radio.Group
            options={[
              { value: "alertmanager", label: "Alertmanager" },
              { value: "grafana", label: "Grafana" },
            ]}
          />
        </Form.Item>
        <Form.Item name="auto_analyze" label={t("webhooks.autoAnalyze")} valuePropName="checked">
          <Switch />
        </Form.Item>
        <Form.Item name="group_alerts" label={t("webhooks.group")} valuePropName="checked">
          <Switch />
        </Form.Item>
        <Form.Item name="dedup_window_minutes" label={t("webhooks.dedup")}>
          <InputNumber min={1} max={1440} placeholder="30" style={{ width: "100%" }} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

/** The token, shown once, with the sender's configuration to copy. */
function TokenModal({ webhook: w, onClose }: { webhook: WebhookWithToken; onClose: () => void }) {
  const t = useT();
  const url = endpointUrl(window.location.origin, w.path);
  const snippet = w.kind === "grafana" ? grafanaSnippet(url, w.token) : alertmanagerSnippet(url, w.token);
  return (
    <Modal open title={w.name} onCancel={onClose} onOk={onClose} cancelButtonProps={{ style: { display: "none" } }} width={680}>
      <Alert type="warning" showIcon message={t("webhooks.tokenOnce")} style={{ marginBottom: 12 }} />
      <Typography.Text type="secondary">{t("webhooks.token")}</Typography.Text>
      <div>
        <Typography.Text className="mono" copyable data-testid="webhook-token">
          {w.token}
        </Typography.Text>
      </div>
      <Typography.Text type="secondary" style={{ display: "block", marginTop: 12 }}>
        {w.kind === "grafana" ? t("webhooks.snippetGrafana") : t("webhooks.snippetAlertmanager")}
      </Typography.Text>
      <Typography.Paragraph copyable={{ text: snippet }} style={{ marginBottom: 0 }}>
        <CodeBlock>{snippet}</CodeBlock>
      </Typography.Paragraph>
    </Modal>
  );
}
