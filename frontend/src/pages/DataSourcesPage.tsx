import { useState } from "react";
import { App, Button, Empty, Form, Input, InputNumber, Modal, Popconfirm, Radio, Select, Space, Switch, Table, Tag, Tooltip, Typography } from "antd";
import { ApiOutlined, DeleteOutlined, EditOutlined, PlusOutlined, ReloadOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/endpoints";
import { ApiError, errorMessage } from "../api/client";
import type { ConnectionTest, DataSource, DataSourceKind } from "../api/types";
import { useT, type MessageKey } from "../i18n";
import { useCan } from "../lib/queries";
import { defaultUrl, isDefaultUrl, newFormValues, toFormValues, toInput, withEnabled, type DsFormValues } from "../lib/datasources";
import { formatDateTime } from "../lib/format";
import { ErrorBox, PageHead } from "../components/common";

const TYPE_COLOR: Record<DataSourceKind, string> = { elk: "gold", loki: "purple", prometheus: "orange" };
const TYPE_LABEL: Record<DataSourceKind, string> = { elk: "Elasticsearch / ELK", loki: "Loki", prometheus: "Prometheus" };

type TestState = { pending: true } | { pending: false; result: ConnectionTest; at?: string };

function TestResult({ state }: { state: TestState | undefined }) {
  const t = useT();
  if (!state) return <Typography.Text type="secondary">{t("ds.notTested")}</Typography.Text>;
  if (state.pending) return <Typography.Text type="secondary">{t("common.loading")}</Typography.Text>;
  const r = state.result;
  return (
    <Space direction="vertical" size={0} data-testid="ds-test-result" data-ok={r.ok ? "true" : "false"}>
      <Space size={4} wrap>
        <Tag color={r.ok ? "success" : "error"}>{r.ok ? t("ds.testOk") : t("ds.testFailed")}</Tag>
        {state.at && (
          <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="ds-tested-at">
            {t("datasources.testedAt", { time: formatDateTime(state.at) })}
          </Typography.Text>
        )}
      </Space>
      {(r.ok || r.latency_ms > 0) && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="ds-latency">
          {t("datasources.latency")}: {t("ds.latency", { ms: r.latency_ms })}
        </Typography.Text>
      )}
      {r.version && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="ds-version">
          {t("datasources.version")}: {r.version}
        </Typography.Text>
      )}
      {r.message && (
        <Typography.Text type={r.ok ? "secondary" : "danger"} style={{ fontSize: 12, maxWidth: 320 }} ellipsis={{ tooltip: r.message }}>
          {r.message}
        </Typography.Text>
      )}
    </Space>
  );
}

/** The test shown for a data source: the one just run here, else the last one kept. */
function shownTest(d: DataSource, live: TestState | undefined): TestState | undefined {
  if (live) return live;
  const kept = d.last_test;
  return kept ? { pending: false, result: kept.result as ConnectionTest, at: kept.tested_at } : undefined;
}

export default function DataSourcesPage() {
  const t = useT();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const isAdmin = useCan("admin");
  const canTest = useCan("engineer");
  const list = useQuery({ queryKey: ["datasources"], queryFn: () => api.dataSources() });
  const [editing, setEditing] = useState<DataSource | "new" | null>(null);
  const [tests, setTests] = useState<Record<string, TestState>>({});

  const runTest = async (id: string) => {
    setTests((s) => ({ ...s, [id]: { pending: true } }));
    let result: ConnectionTest;
    try {
      result = await api.testDataSource(id);
    } catch (e) {
      // No test endpoint yet, or the server refused: show what it said.
      result = { ok: false, latency_ms: 0, message: e instanceof ApiError ? `${e.message} (${e.status})` : errorMessage(e) };
    }
    setTests((s) => ({ ...s, [id]: { pending: false, result, at: new Date().toISOString() } }));
    void qc.invalidateQueries({ queryKey: ["datasources"] });
    return result;
  };

  const toggle = useMutation({
    mutationFn: (d: DataSource) => api.updateDataSource(d.id, withEnabled(d, !d.enabled)),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["datasources"] }),
    onError: (e) => void message.error(errorMessage(e)),
  });
  const del = useMutation({
    mutationFn: (d: DataSource) => api.deleteDataSource(d.id),
    onSuccess: () => {
      void message.success(t("ds.deleted"));
      return qc.invalidateQueries({ queryKey: ["datasources"] });
    },
    onError: (e) => void message.error(errorMessage(e)),
  });

  return (
    <>
      <PageHead
        title={t("ds.title")}
        extra={
          <>
            <Button icon={<ReloadOutlined />} onClick={() => void list.refetch()} aria-label={t("common.refresh")} />
            {isAdmin && (
              <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing("new")} data-testid="ds-add">
                {t("ds.add")}
              </Button>
            )}
          </>
        }
      />
      {list.isError && <ErrorBox error={list.error} onRetry={() => void list.refetch()} />}
      <Table<DataSource>
        rowKey="id"
        loading={list.isPending}
        dataSource={list.data?.items ?? []}
        pagination={false}
        scroll={{ x: 940 }}
        locale={{ emptyText: <Empty description={t("ds.empty")} /> }}
        columns={[
          {
            title: t("ds.name"),
            dataIndex: "name",
            width: 210,
            render: (n: string, d) => (
              <Space direction="vertical" size={2}>
                <strong>{n}</strong>
                <Tag color={TYPE_COLOR[d.type]}>{TYPE_LABEL[d.type]}</Tag>
              </Space>
            ),
          },
          {
            title: t("ds.url"),
            dataIndex: "url",
            render: (u: string, d) => (
              <Space direction="vertical" size={2} style={{ maxWidth: 300 }}>
                <Typography.Text className="mono" copyable ellipsis={{ tooltip: u }} style={{ maxWidth: 280 }}>
                  {u}
                </Typography.Text>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t("ds.auth")}: {t(`ds.auth.${d.auth.type}` as MessageKey)}
                  {d.auth.type === "basic" && d.auth.username ? ` · ${d.auth.username}` : ""}
                  {(d.auth.has_password || d.auth.has_token) && ` · •••• ${t("ds.secretSet")}`}
                </Typography.Text>
              </Space>
            ),
          },
          {
            title: t("ds.enabled"),
            dataIndex: "enabled",
            width: 90,
            render: (e: boolean, d) => <Switch size="small" checked={e} disabled={!isAdmin} loading={toggle.isPending && toggle.variables?.id === d.id} onChange={() => toggle.mutate(d)} />,
          },
          { title: t("ds.lastTest"), key: "test", width: 240, render: (_, d) => <TestResult state={shownTest(d, tests[d.id])} /> },
          { title: t("common.updatedAt"), dataIndex: "updated_at", width: 170, responsive: ["xxl"], render: formatDateTime },
          {
            title: t("common.actions"),
            key: "actions",
            width: isAdmin ? 180 : 90,
            render: (_, d) => (
              <Space size={4}>
                {canTest && (
                  <Button size="small" icon={<ApiOutlined />} loading={tests[d.id]?.pending} onClick={() => void runTest(d.id)} data-testid={`ds-test-${d.name}`}>
                    {t("ds.test")}
                  </Button>
                )}
                {isAdmin && (
                  <Tooltip title={t("common.edit")}>
                    <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(d)} aria-label={t("common.edit")} />
                  </Tooltip>
                )}
                {isAdmin && (
                  <Popconfirm
                    title={t("ds.deleteConfirm", { name: d.name })}
                    okText={t("common.delete")}
                    cancelText={t("common.cancel")}
                    okButtonProps={{ danger: true }}
                    onConfirm={() => del.mutateAsync(d)}
                  >
                    <Button size="small" danger icon={<DeleteOutlined />} aria-label={t("common.delete")} />
                  </Popconfirm>
                )}
              </Space>
            ),
          },
        ]}
      />
      {editing && (
        <DataSourceModal
          existing={editing === "new" ? undefined : editing}
          onClose={() => setEditing(null)}
          onSaved={(d, test) => {
            setEditing(null);
            void qc.invalidateQueries({ queryKey: ["datasources"] });
            void message.success(t("common.saved"));
            if (test) void runTest(d.id);
          }}
        />
      )}
    </>
  );
}

function DataSourceModal({
  existing,
  onClose,
  onSaved,
}: {
  existing?: DataSource;
  onClose: () => void;
  onSaved: (d: DataSource, test: boolean) => void;
}) {
  const t = useT();
  const [form] = Form.useForm<DsFormValues>();
  const type = Form.useWatch("type", form) ?? existing?.type ?? "prometheus";
  const authType = Form.useWatch("authType", form) ?? existing?.auth.type ?? "none";
  const [andTest, setAndTest] = useState(false);
  const save = useMutation({
    mutationFn: (v: DsFormValues) => {
      const input = toInput(v, existing);
      return existing ? api.updateDataSource(existing.id, input) : api.createDataSource(input);
    },
    onSuccess: (d) => onSaved(d, andTest),
  });

  const onTypeChange = (k: DataSourceKind) => {
    const url = form.getFieldValue("url") as string | undefined;
    if (isDefaultUrl(url)) form.setFieldValue("url", defaultUrl(k));
    if (k === "elk" && !form.getFieldValue("index")) form.setFieldValue("index", "logs-*");
  };

  return (
    <Modal
      open
      title={existing ? t("ds.edit") : t("ds.add")}
      onCancel={onClose}
      width={600}
      destroyOnHidden
      footer={[
        <Button key="cancel" onClick={onClose}>
          {t("common.cancel")}
        </Button>,
        <Button
          key="test"
          icon={<ApiOutlined />}
          loading={save.isPending && andTest}
          onClick={() => {
            setAndTest(true);
            form.submit();
          }}
          data-testid="ds-save-test"
        >
          {t("ds.saveAndTest")}
        </Button>,
        <Button
          key="save"
          type="primary"
          loading={save.isPending && !andTest}
          onClick={() => {
            setAndTest(false);
            form.submit();
          }}
          data-testid="ds-save"
        >
          {t("common.save")}
        </Button>,
      ]}
    >
      <Form<DsFormValues>
        form={form}
        layout="vertical"
        initialValues={existing ? toFormValues(existing) : newFormValues()}
        onFinish={(v) => save.mutate(v)}
      >
        <Form.Item name="type" label={t("ds.type")} rules={[{ required: true }]}>
          <Radio.Group
            optionType="button"
            buttonStyle="solid"
            onChange={(e) => onTypeChange(e.target.value as DataSourceKind)}
            options={(["elk", "loki", "prometheus"] as const).map((k) => ({ value: k, label: TYPE_LABEL[k] }))}
          />
        </Form.Item>
        <Typography.Paragraph type="secondary" style={{ marginTop: -12 }}>
          {t(`ds.hint.${type}` as MessageKey)}
        </Typography.Paragraph>
        <Form.Item name="name" label={t("ds.name")} rules={[{ required: true, whitespace: true, max: 100 }]}>
          <Input id="ds-name" placeholder={type === "elk" ? "es-prod" : type === "loki" ? "loki-prod" : "prometheus-prod"} />
        </Form.Item>
        <Form.Item
          name="url"
          label={t("ds.url")}
          rules={[{ required: true, pattern: /^https?:\/\/[^\s/]+/i, message: t("ds.urlInvalid") }]}
        >
          <Input id="ds-url" className="mono" />
        </Form.Item>
        {type === "elk" && (
          <Space.Compact block style={{ gap: 8 }}>
            <Form.Item name="index" label={t("ds.index")} style={{ flex: 2 }} rules={[{ required: true }]}>
              <Input placeholder="logs-*" className="mono" />
            </Form.Item>
            <Form.Item name="timestampField" label={t("ds.timestampField")} style={{ flex: 1 }}>
              <Input placeholder="@timestamp" className="mono" />
            </Form.Item>
            <Form.Item name="messageField" label={t("ds.messageField")} style={{ flex: 1 }}>
              <Input placeholder="message" className="mono" />
            </Form.Item>
          </Space.Compact>
        )}
        {type === "loki" && (
          <Form.Item name="labels" label={t("ds.labels")}>
            <Input placeholder='{app="api"}' className="mono" />
          </Form.Item>
        )}
        <Form.Item name="authType" label={t("ds.auth")}>
          <Select
            options={(["none", "basic", "bearer"] as const).map((k) => ({ value: k, label: t(`ds.auth.${k}` as MessageKey) }))}
          />
        </Form.Item>
        {authType === "basic" && (
          <Space.Compact block style={{ gap: 8 }}>
            <Form.Item name="username" label={t("ds.username")} style={{ flex: 1 }} rules={[{ required: true }]}>
              <Input autoComplete="off" />
            </Form.Item>
            <Form.Item
              name="password"
              label={t("ds.password")}
              style={{ flex: 1 }}
              rules={[{ required: !existing?.auth.has_password }]}
            >
              <Input.Password autoComplete="new-password" placeholder={existing?.auth.has_password ? t("ds.secretKept") : undefined} />
            </Form.Item>
          </Space.Compact>
        )}
        {authType === "bearer" && (
          <Form.Item name="token" label={t("ds.token")} rules={[{ required: !existing?.auth.has_token }]}>
            <Input.Password autoComplete="new-password" placeholder={existing?.auth.has_token ? t("ds.secretKept") : undefined} />
          </Form.Item>
        )}
        <Space size={24} wrap>
          <Form.Item name="enabled" label={t("ds.enabled")} valuePropName="checked">
            <Switch />
          </Form.Item>
          <Form.Item name="timeout_ms" label={t("ds.timeout")} rules={[{ required: true }]}>
            <InputNumber min={100} max={120000} step={1000} style={{ width: 160 }} />
          </Form.Item>
        </Space>
        {save.isError && <ErrorBox error={save.error} />}
      </Form>
    </Modal>
  );
}
