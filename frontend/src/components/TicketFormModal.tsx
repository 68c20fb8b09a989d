// Create a ticket (by hand or pre-filled from an analysis) or edit one. An edit sends
// only the changed fields with the version read; a 409 says someone else was faster.
import { useState } from "react";
import { Alert, AutoComplete, Button, Form, Input, Modal, Select } from "antd";
import { useMutation, useQuery } from "@tanstack/react-query";
import { api } from "../api/endpoints";
import { ApiError, errorMessage } from "../api/client";
import type { TicketDetail, TicketInput } from "../api/types";
import { SEVERITIES, ticketChanges, type TicketFormValues } from "../lib/tickets";
import { useT } from "../i18n";
import { useCan } from "../lib/queries";
import { CONFIRMED_ROOT_CAUSE_MAX, RESOLUTION_MAX } from "../lib/accuracy";

type Props =
  | { mode: "create"; initial: Partial<TicketFormValues>; analysisId?: string; onClose: () => void; onDone: (t: TicketDetail) => void }
  | { mode: "edit"; ticket: TicketDetail; onClose: () => void; onDone: (t: TicketDetail) => void; onConflict: () => void };

export default function TicketFormModal(props: Props) {
  const t = useT();
  const [form] = Form.useForm<TicketFormValues>();
  const isAdmin = useCan("admin");
  const [conflict, setConflict] = useState<string | null>(null);
  const users = useQuery({ queryKey: ["users"], queryFn: () => api.users(), enabled: isAdmin, staleTime: 60_000 });

  const m = useMutation({
    mutationFn: (v: TicketFormValues): Promise<TicketDetail> => {
      if (props.mode === "edit") return api.updateTicket(props.ticket.no, ticketChanges(props.ticket, v));
      const input: TicketInput = {
        title: v.title.trim(),
        root_cause: (v.root_cause ?? "").trim(),
        severity: v.severity,
      };
      if (v.assignee?.trim()) input.assignee = v.assignee.trim();
      if (v.description?.trim()) input.description = v.description.trim();
      if (props.analysisId) input.analysis_id = props.analysisId;
      return api.createTicket(input);
    },
    onSuccess: (ticket) => props.onDone(ticket),
    onError: (e) => {
      if (e instanceof ApiError && e.status === 409 && props.mode === "edit") setConflict(e.message);
    },
  });

  const initial: Partial<TicketFormValues> =
    props.mode === "edit"
      ? {
          title: props.ticket.title,
          root_cause: props.ticket.root_cause,
          severity: props.ticket.severity,
          assignee: props.ticket.assignee ?? undefined,
          description: props.ticket.description ?? undefined,
          confirmed_root_cause: props.ticket.confirmed_root_cause ?? undefined,
          resolution: props.ticket.resolution ?? undefined,
        }
      : { severity: "P2", ...props.initial };

  return (
    <Modal
      open
      title={props.mode === "edit" ? `${t("tickets.edit")} · ${props.ticket.no}` : t("tickets.new")}
      onCancel={props.onClose}
      onOk={() => form.submit()}
      okText={props.mode === "edit" ? t("common.save") : t("common.create")}
      cancelText={t("common.cancel")}
      confirmLoading={m.isPending}
      okButtonProps={{ "data-testid": "ticket-submit" }}
      width={640}
      destroyOnHidden
    >
      {conflict && props.mode === "edit" && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 16 }}
          message={t("tickets.conflict")}
          description={conflict}
          action={
            <Button size="small" onClick={props.onConflict}>
              {t("tickets.reload")}
            </Button>
          }
        />
      )}
      {m.isError && !conflict && <Alert type="error" showIcon style={{ marginBottom: 16 }} message={errorMessage(m.error)} />}
      <Form<TicketFormValues> form={form} layout="vertical" initialValues={initial} onFinish={(v) => m.mutate(v)}>
        <Form.Item name="title" label={t("tickets.titleField")} rules={[{ required: true, whitespace: true, message: t("tickets.titleRequired") }]}>
          <Input id="ticket-title" maxLength={200} />
        </Form.Item>
        <Form.Item name="root_cause" label={t("tickets.rootCause")}>
          <Input.TextArea id="ticket-root-cause" autoSize={{ minRows: 2, maxRows: 6 }} />
        </Form.Item>
        <div style={{ display: "flex", gap: 12, flexWrap: "wrap" }}>
          <Form.Item name="severity" label={t("tickets.severity")} style={{ width: 120 }}>
            <Select options={SEVERITIES.map((s) => ({ value: s, label: s }))} />
          </Form.Item>
          <Form.Item name="assignee" label={t("tickets.assignee")} style={{ flex: 1, minWidth: 220 }} rules={[{ type: "email", message: t("tickets.assigneeInvalid") }]}>
            <AutoComplete
              allowClear
              placeholder="someone@example.com"
              options={(users.data?.items ?? []).filter((u) => !u.disabled).map((u) => ({ value: u.email, label: `${u.name} <${u.email}>` }))}
              filterOption={(input, o) => String(o?.label ?? "").toLowerCase().includes(input.toLowerCase())}
            />
          </Form.Item>
        </div>
        <Form.Item name="description" label={t("tickets.description")}>
          <Input.TextArea autoSize={{ minRows: 3, maxRows: 10 }} />
        </Form.Item>
        {props.mode === "edit" &&
          (props.ticket.status === "resolved" || props.ticket.status === "closed" || props.ticket.confirmed_root_cause || props.ticket.resolution) && (
            <>
              <Form.Item
                name="confirmed_root_cause"
                label={t("tickets.confirmedRootCause")}
                rules={[{ max: CONFIRMED_ROOT_CAUSE_MAX }, { pattern: /^\S*$/, message: t("resolve.causeOneName") }]}
              >
                <Input id="ticket-confirmed-root-cause" allowClear placeholder={t("resolve.causePlaceholder")} />
              </Form.Item>
              <Form.Item name="resolution" label={t("tickets.resolution")} rules={[{ max: RESOLUTION_MAX }]}>
                <Input.TextArea id="ticket-resolution" autoSize={{ minRows: 2, maxRows: 6 }} />
              </Form.Item>
            </>
          )}
      </Form>
    </Modal>
  );
}
