import { App, Form, Modal } from "antd";
import { useT } from "../i18n";
import { PasswordFields } from "./PasswordForm";
import { usePasswordChange, type PasswordValues } from "../lib/passwordChange";

export default function PasswordModal({ open, onClose }: { open: boolean; onClose: () => void }) {
  const t = useT();
  const [form] = Form.useForm<PasswordValues>();
  const { message } = App.useApp();
  const m = usePasswordChange(() => {
    void message.success(t("user.passwordChanged"));
    form.resetFields();
    onClose();
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
      <PasswordFields form={form} onFinish={(v) => m.mutate(v)} error={m.isError ? m.error : undefined} />
    </Modal>
  );
}
