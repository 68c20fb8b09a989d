// The password change form shared by the "Change password" dialog and the blocking
// form shown while an account still has the default password.
import { Form, Input, type FormInstance } from "antd";
import { errorMessage } from "../api/client";
import { useT } from "../i18n";
import type { PasswordValues } from "../lib/passwordChange";

/** Current password, new password (at least 8 characters, not the current one) and the new one again. */
export function PasswordFields({
  form,
  onFinish,
  error,
}: {
  form: FormInstance<PasswordValues>;
  onFinish: (v: PasswordValues) => void;
  error?: unknown;
}) {
  const t = useT();
  return (
    <Form form={form} layout="vertical" onFinish={onFinish} preserve={false} requiredMark={false}>
      <Form.Item name="current" label={t("user.currentPassword")} rules={[{ required: true, message: t("user.passwordRequired") }]}>
        <Input.Password id="current" autoComplete="current-password" />
      </Form.Item>
      <Form.Item
        name="next"
        label={t("user.newPassword")}
        dependencies={["current"]}
        rules={[
          { required: true, min: 8, message: t("user.passwordTooShort") },
          ({ getFieldValue }) => ({
            validator: (_, v) =>
              !v || v !== getFieldValue("current") ? Promise.resolve() : Promise.reject(new Error(t("user.passwordSame"))),
          }),
        ]}
      >
        <Input.Password id="next" autoComplete="new-password" />
      </Form.Item>
      <Form.Item
        name="again"
        label={t("user.confirmPassword")}
        dependencies={["next"]}
        rules={[
          { required: true, message: t("user.passwordRequired") },
          ({ getFieldValue }) => ({
            validator: (_, v) =>
              !v || v === getFieldValue("next") ? Promise.resolve() : Promise.reject(new Error(t("user.passwordMismatch"))),
          }),
        ]}
      >
        <Input.Password id="again" autoComplete="new-password" />
      </Form.Item>
      {error !== undefined && error !== null && (
        <div style={{ color: "#ff4d4f", marginBottom: 12 }} data-testid="password-error">
          {errorMessage(error)}
        </div>
      )}
      {/* Enter submits */}
      <button type="submit" hidden />
    </Form>
  );
}
