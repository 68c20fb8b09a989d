// Notification channels (admins): where results and ticket changes are posted, with
// a test button and each channel's deliveries (status, attempts, last error).
import { useState } from "react";
import { App, Button, Checkbox, Form, Input, Modal, Popconfirm, Select, Space, Table, Tag, Typography } from "antd";
import { DeleteOutlined, PlusOutlined, SendOutlined, UnorderedListOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/endpoints";
import { errorMessage } from "../api/client";
import type { Channel, ChannelInput, ChannelKind, Delivery, NotificationEvent } from "../api/types";
import { useT, type MessageKey } from "../i18n";
import { formatDateTime } from "../lib/format";
import { ErrorBox, PageHead } from "../components/common";

const KINDS: ChannelKind[] = ["webhook", "slack", "feishu", "dingtalk", "wecom"];
const EVENTS: NotificationEvent[] = ["analysis_completed", "analysis_failed", "ticket_status"];
const DELIVERY_COLOR: Record<string, string> = { delivered: "success", failed: "error", pending: "processing", sending: "processing" };

interface Values {
  name: string;
  kind: ChannelKind;
  url: string;
  secret?: string;
  events: NotificationEvent[];
}

export default function ChannelsPage() {
  const t = useT();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ["channels"], queryFn: () => api.channels() });
  const [creating, setCreating] = useState(false);
  const [open, setOpen] = useState<Channel | null>(null);
  const test = useMutation({
    mutationFn: (c: Channel) => api.testChannel(c.id),
    onSuccess: (r, c) => {
      if (r.ok) void message.success(t("channels.testOk", { message: r.message }));
      else void message.error(t("channels.testFailed", { message: r.message }));
      void qc.invalidateQueries({ queryKey: ["deliveries", c.id] });
    },
    onError: (e) => void message.error(errorMessage(e)),
  });
  const del = useMutation({
    mutationFn: (c: Channel) => api.deleteChannel(c.id),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["channels"] }),
    onError: (e) => void message.error(errorMessage(e)),
  });

  return (
    <>
      <PageHead
        title={t("channels.title")}
        extra={
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="channel-add">
            {t("channels.new")}
          </Button>
        }
      />
      {list.isError && <ErrorBox error={list.error} onRetry={() => void list.refetch()} />}
      <Table<Channel>
        rowKey="id"
        loading={list.isPending}
        dataSource={list.data?.items ?? []}
        pagination={false}
        scroll={{ x: 900 }}
        locale={{ emptyText: t("channels.empty") }}
        expandable={{ expandedRowRender: (c) => <Deliveries channel={c} />, expandedRowKeys: open ? [open.id] : [], showExpandColumn: false }}
        columns={[
          { title: t("common.name"), dataIndex: "name", render: (n: string) => <strong>{n}</strong> },
          { title: t("channels.kind"), dataIndex: "kind", width: 110, render: (k: ChannelKind) => <Tag>{k}</Tag> },
          { title: t("channels.url"), dataIndex: "url_hint", render: (u: string) => <span className="mono">{u}</span> },
          {
            title: t("channels.events"),
            dataIndex: "events",
            render: (ev: NotificationEvent[]) => ev.map((e) => <Tag key={e}>{t(`channels.event.${e}` as MessageKey)}</Tag>),
          },
          {
            title: t("common.actions"),
            key: "actions",
            width: 260,
            render: (_, c) => (
              <Space>
                <Button size="small" icon={<SendOutlined />} loading={test.isPending && test.variables?.id === c.id} onClick={() => test.mutate(c)} data-testid={`channel-test-${c.name}`}>
                  {t("channels.test")}
                </Button>
                <Button size="small" icon={<UnorderedListOutlined />} onClick={() => setOpen(open?.id === c.id ? null : c)}>
                  {t("channels.deliveries")}
                </Button>
                <Popconfirm title={t("channels.deleteConfirm", { name: c.name })} onConfirm={() => del.mutate(c)}>
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
          onCreated={() => {
            setCreating(false);
            void qc.invalidateQueries({ queryKey: ["channels"] });
          }}
        />
      )}
    </>
  );
}

function Deliveries({ channel }: { channel: Channel }) {
  const t = useT();
  const q = useQuery({ queryKey: ["deliveries", channel.id], queryFn: () => api.deliveries(channel.id), refetchInterval: 5_000 });
  return (
    <Table<Delivery>
      size="small"
      rowKey="id"
      loading={q.isPending}
      dataSource={q.data?.items ?? []}
      pagination={false}
      data-testid="channel-deliveries"
      columns={[
        { title: t("channels.events"), dataIndex: "event_key", render: (k: string) => <span className="mono">{k}</span> },
        { title: t("common.status"), dataIndex: "status", width: 110, render: (s: string) => <Tag color={DELIVERY_COLOR[s] ?? "default"}>{s}</Tag> },
        { title: t("channels.attempts"), dataIndex: "attempts", width: 90, align: "right" },
        {
          title: t("channels.lastError"),
          dataIndex: "last_error",
          render: (e?: string | null) => (e ? <Typography.Text type="danger">{e}</Typography.Text> : "—"),
        },
        { title: t("common.createdAt"), dataIndex: "created_at", width: 170, render: formatDateTime },
      ]}
    />
  );
}

function CreateModal({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const t = useT();
  const [form] = Form.useForm<Values>();
  const create = useMutation({
    mutationFn: (v: Values) => {
      const input: ChannelInput = {
        name: v.name.trim(),
        kind: v.kind,
        url: v.url.trim(),
        events: v.events,
        ...(v.secret?.trim() ? { secret: v.secret.trim() } : {}),
      };
      return api.createChannel(input);
    },
    onSuccess: onCreated,
  });
  return (
    <Modal open title={t("channels.new")} onCancel={onClose} onOk={() => form.submit()} confirmLoading={create.isPending} okText={t("common.create")}>
      {create.isError && <ErrorBox error={create.error} />}
      <Form<Values> form={form} layout="vertical" initialValues={{ kind: "webhook", events: EVENTS }} onFinish={(v) => create.mutate(v)}>
        <Form.Item name="name" label={t("common.name")} rules={[{ required: true, whitespace: true }]}>
          <Input id="channel-name" autoFocus />
        </Form.Item>
        <Form.Item name="kind" label={t("channels.kind")}>
          <Select options={KINDS.map((k) => ({ value: k, label: k }))} />
        </Form.Item>
        <Form.Item name="url" label={t("channels.url")} rules={[{ required: true, whitespace: true }]}>
          <Input id="channel-url" placeholder="https://" />
        </Form.Item>
        <Form.Item name="secret" label={t("channels.secret")}>
          <Input.Password id="channel-secret" autoComplete="new-password" />
        </Form.Item>
        <Form.Item name="events" label={t("channels.events")}>
          <Checkbox.Group options={EVENTS.map((e) => ({ value: e, label: t(`channels.event.${e}` as MessageKey) }))} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
