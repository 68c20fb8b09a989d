// An analysis that ran again (a webhook's, once its incident window filled): which
// run to compare with, and what changed — the headline, the top suspects, the
// evidence that came or went.
import { useState } from "react";
import { Alert, Card, List, Select, Space, Tag, Typography } from "antd";
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/endpoints";
import type { Analysis, ResultEvidence } from "../api/types";
import { useT, type MessageKey } from "../i18n";
import { formatDateTime } from "../lib/format";
import { revisionDiff, type SuspectMove } from "../lib/revisions";

/** Shown only for an analysis in its second run or later. */
export function RevisionCompare({ analysis: a }: { analysis: Analysis }) {
  const t = useT();
  const earlier = useQuery({
    queryKey: ["analysis", a.id, "revisions"],
    queryFn: () => api.analysisRevisions(a.id),
    enabled: a.revision > 1,
  });
  const runs = earlier.data ?? [];
  const [picked, setPicked] = useState<number | null>(null);
  if (a.revision <= 1) return null;
  if (earlier.isError)
    return <Alert type="warning" showIcon message={t("revisions.failed")} description={String(earlier.error)} data-testid="revisions" />;
  if (!runs.length) return null;
  const before = runs.find((r) => r.revision === picked) ?? runs[runs.length - 1]!;
  const d = revisionDiff(before, a);
  return (
    <Card
      size="small"
      data-testid="revisions"
      title={
        <Space wrap size={8}>
          <span>{t("revisions.title", { n: a.revision })}</span>
          <Typography.Text type="secondary" style={{ fontWeight: "normal" }}>
            {t("revisions.compareWith")}
          </Typography.Text>
          <Select
            size="small"
            value={before.revision}
            onChange={setPicked}
            style={{ minWidth: 220 }}
            data-testid="revision-select"
            options={runs.map((r) => ({
              value: r.revision,
              label: t("revisions.option", { n: r.revision, at: r.completed_at ? formatDateTime(r.completed_at) : "—" }),
            }))}
          />
        </Space>
      }
    >
      <div data-testid="revision-headline" style={{ marginBottom: 8 }}>
        {d.headlineChanged ? (
          <>
            <Tag color="orange">{t("revisions.headlineChanged")}</Tag>
            <Typography.Text delete type="secondary">
              {d.headlineBefore || "—"}
            </Typography.Text>
            <div>
              <strong>{d.headlineNow || "—"}</strong>
            </div>
          </>
        ) : (
          <Typography.Text type="secondary">{t("revisions.headlineSame")}</Typography.Text>
        )}
      </div>
      <div data-testid="revision-suspects" style={{ marginBottom: 8 }}>
        <Typography.Text type="secondary">{t("revisions.suspects")}: </Typography.Text>
        <Space wrap size={[8, 4]}>
          {d.suspects.map((s) => (
            <SuspectMoveTag key={s.component} move={s} />
          ))}
        </Space>
      </div>
      <EvidenceChanges title={t("revisions.added", { n: d.added.length })} items={d.added} color="green" testid="revision-added" />
      <EvidenceChanges title={t("revisions.removed", { n: d.removed.length })} items={d.removed} color="default" testid="revision-removed" />
    </Card>
  );
}

function SuspectMoveTag({ move: s }: { move: SuspectMove }) {
  const t = useT();
  const text =
    s.before === null ? t("revisions.new") : s.now === null ? t("revisions.dropped", { n: s.before }) : s.before === s.now ? `#${s.now}` : `#${s.before} → #${s.now}`;
  return (
    <span data-testid="revision-suspect">
      <strong>{s.component}</strong>{" "}
      <Tag color={s.before === null ? "red" : s.now === null ? "default" : s.before === s.now ? undefined : "orange"}>{text}</Tag>
    </span>
  );
}

function EvidenceChanges({ title, items, color, testid }: { title: string; items: ResultEvidence[]; color: string; testid: string }) {
  const t = useT();
  if (!items.length) return null;
  const kind = (k: string) => {
    const key = `analysis.kind.${k}` as MessageKey;
    const s = t(key);
    return s === key ? k : s;
  };
  return (
    <List
      size="small"
      data-testid={testid}
      header={<Typography.Text type="secondary">{title}</Typography.Text>}
      dataSource={items.slice(0, 5)}
      renderItem={(e) => (
        <List.Item>
          <Space align="start" size={8}>
            <Tag color={color}>{kind(e.kind)}</Tag>
            <span className="evidence-detail">{e.detail}</span>
          </Space>
        </List.Item>
      )}
    />
  );
}
