import { App, Form, Input, Modal } from "antd";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/endpoints";
import { errorMessage } from "../api/client";
import { useT } from "../i18n";
import { useAuth } from "../store/auth";

interface Values {
  current: string;
  next: string;
  again: string;
}

export default function PasswordModal({ open, onClose }: { open: boolean; onClose: () => void }) {
  const t = useT();
  const [form] = Form.useForm<Values>();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const login = useAuth((s) => s.login);
  const m = useMutation({
    mutationFn: (v: Values) => api.changePassword(v.current, v.next),
    onSuccess: (r) => {
      // the change revoked every earlier token, this session's too: carry on with the new one
      login(r.access_token, r.expires_in);
      void message.success(t("user.passwordChanged"));
      void qc.invalidateQueries({ queryKey: ["me"] });
      void qc.invalidateQueries({ queryKey: ["info"] });
      form.resetFields();
      onClose();
    },
  });
  return (
    <Modal
      open={open}
      title={t("user.changePassword")}
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={m.isPending}
      okText={t("common.save")}
      cancelText={t("common.cancel")}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" onFinish={(v) => m.mutate(v)} preserve={false}>
        <Form.Item name="current" label={t("user.currentPassword")} rules={[{ required: true }]}>
          <Input.Password autoComplete="current-password" />
        </Form.Item>
        <Form.Item name="next" label={t("user.newPassword")} rules={[{ required: true, min: 8, message: t("user.passwordTooShort") }]}>
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item
          name="again"
          label={t("user.confirmPassword")}
          dependencies={["next"]}
          rules={[
            { required: true },
            ({ getFieldValue }) => ({
              validator: (_, v) =>
                !v || v === getFieldValue("next") ? Promise.resolve() : Promise.reject(new Error(t("user.passwordMismatch"))),
            }),
          ]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        {m.isError && <div style={{ color: "#ff4d4f" }}>{errorMessage(m.error)}</div>}
      </Form>
    </Modal>
  );
}
