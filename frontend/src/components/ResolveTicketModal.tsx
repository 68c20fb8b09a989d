// Resolving a ticket: optionally confirm the root-cause component (prefilled with the
// analysis' #1 suspect; "The analysis was right" is one click) and say what fixed it.
// Both go with the status change in one PATCH, with the version read.
import { useEffect } from "react";
import { Alert, AutoComplete, Button, Form, Input, Modal, Space, Typography } from "antd";
import { CheckOutlined } from "@ant-design/icons";
import { useMutation, useQuery } from "@tanstack/react-query";
import { api } from "../api/endpoints";
import { ApiError, errorMessage } from "../api/client";
import type { TicketDetail, TicketUpdate } from "../api/types";
import { useT } from "../i18n";
import { CONFIRMED_ROOT_CAUSE_MAX, RESOLUTION_MAX, suspectNames } from "../lib/accuracy";

interface Values {
  confirmed_root_cause?: string;
  resolution?: string;
}

interface Props {
  ticket: TicketDetail;
  onCancel: () => void;
  onDone: (t: TicketDetail) => void;
  /** A 409: someone else changed the ticket (or its status) first. */
  onConflict: (message: string) => void;
}

export default function ResolveTicketModal({ ticket, onCancel, onDone, onConflict }: Props) {
  const t = useT();
  const [form] = Form.useForm<Values>();
  const analysis = useQuery({
    queryKey: ["analysis", ticket.analysis_id],
    queryFn: () => api.analysis(ticket.analysis_id!),
    enabled: !!ticket.analysis_id,
    retry: false,
    staleTime: 60_000,
  });
  const suspects = suspectNames(analysis.data?.result?.suspects);
  const top = suspects[0];
  // The analysis may answer after the form opened: prefill unless already typed in.
  useEffect(() => {
    if (top && !form.isFieldTouched("confirmed_root_cause")) form.setFieldsValue({ confirmed_root_cause: top });
  }, [top, form]);

  const m = useMutation({
    mutationFn: (v: Values) => {
      const body: TicketUpdate = { status: "resolved", version: ticket.version };
      const cause = v.confirmed_root_cause?.trim();
      const resolution = v.resolution?.trim();
      if (cause) body.confirmed_root_cause = cause;
      if (resolution) body.resolution = resolution;
      return api.updateTicket(ticket.no, body);
    },
    onSuccess: onDone,
    onError: (e) => {
      if (e instanceof ApiError && e.status === 409) onConflict(e.message);
    },
  });
  const failed = m.error && !(m.error instanceof ApiError && m.error.status === 409) ? errorMessage(m.error) : null;

  return (
    <Modal
      open
      title={`${t("tickets.action.resolve")} · ${ticket.no}`}
      onCancel={onCancel}
      width={600}
      destroyOnHidden
      footer={
        <Space wrap>
          <Button onClick={onCancel}>{t("common.cancel")}</Button>
          {top && (
            <Button
              icon={<CheckOutlined />}
              loading={m.isPending}
              onClick={() => m.mutate({ confirmed_root_cause: top, resolution: form.getFieldValue("resolution") as string | undefined })}
              data-testid="resolve-analysis-right"
            >
              {t("resolve.analysisRight", { name: top })}
            </Button>
          )}
          <Button type="primary" loading={m.isPending} onClick={() => form.submit()} data-testid="resolve-submit">
            {t("tickets.action.resolve")}
          </Button>
        </Space>
      }
    >
      <Typography.Paragraph type="secondary">{t("resolve.intro")}</Typography.Paragraph>
      {failed && <Alert type="error" showIcon style={{ marginBottom: 16 }} message={failed} />}
      <Form<Values>
        form={form}
        layout="vertical"
        initialValues={{ confirmed_root_cause: top }}
        onFinish={(v) => m.mutate(v)}
      >
        <Form.Item
          name="confirmed_root_cause"
          label={t("resolve.cause")}
          extra={top ? t("resolve.causeHelp", { name: top }) : t("resolve.causeHelpNoAnalysis")}
          rules={[
            { max: CONFIRMED_ROOT_CAUSE_MAX },
            { pattern: /^\S*$/, message: t("resolve.causeOneName") },
          ]}
        >
          <AutoComplete
            id="resolve-cause"
            allowClear
            options={suspects.map((s, i) => ({ value: s, label: `#${i + 1} ${s}` }))}
            filterOption={(input, o) => String(o?.value ?? "").toLowerCase().includes(input.toLowerCase())}
            placeholder={t("resolve.causePlaceholder")}
          />
        </Form.Item>
        <Form.Item name="resolution" label={t("resolve.resolution")} rules={[{ max: RESOLUTION_MAX }]}>
          <Input.TextArea id="resolve-resolution" autoSize={{ minRows: 2, maxRows: 6 }} placeholder={t("resolve.resolutionPlaceholder")} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
