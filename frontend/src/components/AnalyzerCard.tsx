// The "Analyzer" section of an analysis: which analyzer answered and, when an LLM
// agent ran, what it did (`usage.llm`): outcome, tokens, timings, tool calls.
import { Alert, Card, Descriptions, Empty, Space, Table, Tag, Tooltip, Typography } from "antd";
import { useT } from "../i18n";
import { compactArgs, prettyArgs, type LlmUsage, type ToolCall, type Usage } from "../lib/analysis";
import { formatCount, formatDuration } from "../lib/format";
import { CodeBlock } from "./common";

export function AnalyzerTag({ analyzer }: { analyzer?: string | null }) {
  const t = useT();
  if (!analyzer) return <>—</>;
  return analyzer === "statistical" ? <Tag>{t("analysis.statistical")}</Tag> : <Tag color="purple">{analyzer}</Tag>;
}

/** A label with an explanation on hover or focus. */
function Hint({ label, hint }: { label: string; hint: string }) {
  return (
    <Tooltip title={hint} trigger={["hover", "focus"]}>
      <span className="hint" tabIndex={0}>
        {label}
      </span>
    </Tooltip>
  );
}

/** How the result was reached: the analyzer, and what the LLM agent did when one ran. */
export function AnalyzerCard({ analyzer, usage, totalMs }: { analyzer?: string | null; usage: Usage | null; totalMs?: number | null }) {
  const t = useT();
  const llm = usage?.llm ?? null;
  return (
    <Card title={t("analysis.analyzer")} size="small" data-testid="analyzer">
      <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 3 }} className="facts">
        <Descriptions.Item label={t("analysis.analyzer")}>
          <AnalyzerTag analyzer={analyzer} />
        </Descriptions.Item>
        {llm?.model && (
          <Descriptions.Item label={t("analysis.model")}>
            <Space size={4} wrap>
              <span>{llm.model}</span>
              {llm.prompt_version && (
                <Typography.Text type="secondary" className="mono">
                  {t("analysis.promptVersion", { version: llm.prompt_version })}
                </Typography.Text>
              )}
            </Space>
          </Descriptions.Item>
        )}
        {llm?.outcome && (
          <Descriptions.Item label={t("analysis.outcome")}>
            <Tag color={llm.outcome === "answered" ? "success" : llm.outcome === "fallback" ? "warning" : "default"}>
              {llm.outcome === "answered" || llm.outcome === "fallback" ? t(`analysis.outcome.${llm.outcome}`) : llm.outcome}
            </Tag>
          </Descriptions.Item>
        )}
        {llm?.total_tokens != null && (
          <Descriptions.Item
            label={llm.tokens_estimated ? <Hint label={t("analysis.tokens")} hint={t("analysis.tokensEstimatedHint")} /> : t("analysis.tokens")}
          >
            {(llm.tokens_estimated ? "≈ " : "") +
              t("analysis.tokensDetail", {
                total: formatCount(llm.total_tokens),
                prompt: formatCount(llm.prompt_tokens),
                completion: formatCount(llm.completion_tokens),
              })}
          </Descriptions.Item>
        )}
        {llm?.llm_calls != null && <Descriptions.Item label={t("analysis.llmCalls")}>{formatCount(llm.llm_calls)}</Descriptions.Item>}
        {llm?.wall_ms != null && <Descriptions.Item label={t("analysis.wallTime")}>{formatDuration(llm.wall_ms)}</Descriptions.Item>}
        {llm?.llm_ms != null && <Descriptions.Item label={t("analysis.llmTime")}>{formatDuration(llm.llm_ms)}</Descriptions.Item>}
        {llm?.overhead_ms != null && (
          <Descriptions.Item label={<Hint label={t("analysis.overhead")} hint={t("analysis.overheadHint")} />}>
            {llm.tool_ms != null
              ? t("analysis.overheadDetail", { overhead: formatDuration(llm.overhead_ms), tools: formatDuration(llm.tool_ms) })
              : formatDuration(llm.overhead_ms)}
          </Descriptions.Item>
        )}
        {llm?.repaired != null && (
          <Descriptions.Item label={<Hint label={t("analysis.repaired")} hint={t("analysis.repairedHint")} />}>
            {llm.repaired ? <Tag color="warning">{t("common.yes")}</Tag> : t("common.no")}
          </Descriptions.Item>
        )}
        {llm?.redacted_values != null && (
          <Descriptions.Item label={<Hint label={t("analysis.redacted")} hint={t("analysis.redactedHint")} />}>
            {formatCount(llm.redacted_values)}
          </Descriptions.Item>
        )}
        {!llm && (totalMs ?? usage?.ms) != null && (
          <Descriptions.Item label={t("analysis.duration")}>{formatDuration(totalMs ?? usage?.ms)}</Descriptions.Item>
        )}
      </Descriptions>
      {!llm && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t("analysis.noLlm")}
        </Typography.Text>
      )}
      {llm?.outcome === "fallback" && (
        <Alert type="warning" showIcon style={{ marginTop: 8 }} message={t("analysis.fallbackTitle")} description={llm.error ?? undefined} />
      )}
      {llm && <ToolCallsTable llm={llm} />}
    </Card>
  );
}

function ToolCallsTable({ llm }: { llm: LlmUsage }) {
  const t = useT();
  const calls = llm.tool_calls;
  return (
    <Table<ToolCall & { key: number }>
      style={{ marginTop: 12 }}
      size="small"
      title={() => (
        <Space size={12} wrap>
          <strong>{t("analysis.toolCalls")}</strong>
          {calls.length > 0 && <Typography.Text type="secondary">{t("analysis.toolCallsOf", { count: calls.length })}</Typography.Text>}
        </Space>
      )}
      dataSource={calls.map((c, i) => ({ ...c, key: i }))}
      pagination={calls.length > 10 ? { pageSize: 10, size: "small" } : false}
      scroll={{ x: 720 }}
      locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("analysis.noToolCalls")} /> }}
      expandable={{
        rowExpandable: (c) => c.arguments.trim() !== "",
        expandedRowRender: (c) => <CodeBlock>{prettyArgs(c.arguments)}</CodeBlock>,
      }}
      columns={[
        { title: t("analysis.tool"), dataIndex: "name", width: 150, render: (n: string) => <span className="mono">{n || "—"}</span> },
        {
          title: t("analysis.arguments"),
          dataIndex: "arguments",
          render: (args: string) =>
            args.trim() ? (
              <Typography.Text className="mono" ellipsis={{ tooltip: <pre className="tooltip-code">{prettyArgs(args)}</pre> }} style={{ display: "block", maxWidth: 460 }}>
                {compactArgs(args)}
              </Typography.Text>
            ) : (
              "—"
            ),
        },
        { title: t("analysis.rows"), dataIndex: "rows", width: 80, align: "right", render: formatCount },
        { title: t("analysis.time"), dataIndex: "ms", width: 90, align: "right", render: (ms: number | null) => formatDuration(ms) },
        {
          title: t("common.status"),
          dataIndex: "error",
          width: 220,
          render: (err: string | null) =>
            err ? <Typography.Text type="danger" className="wrap-anywhere">{err}</Typography.Text> : <Tag color="success">{t("analysis.ok")}</Tag>,
        },
      ]}
    />
  );
}
