// The blocking "choose a new password" form: while an account still has the default
// password the server refuses everything else (403 password_change_required), so
// nothing else of the app is shown until it is changed (or the user signs out).
import { Alert, App, Button, Form } from "antd";
import { KeyOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { useT } from "../i18n";
import { useAuth } from "../store/auth";
import { LangSwitch } from "./shell";
import { PasswordFields } from "./PasswordForm";
import { usePasswordChange, type PasswordValues } from "../lib/passwordChange";

export default function ForcedPasswordChange({ email }: { email?: string }) {
  const t = useT();
  const [form] = Form.useForm<PasswordValues>();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const logout = useAuth((s) => s.logout);
  // On success the new token replaces the old one and RequireAuth shows the page
  // the user was going to.
  const m = usePasswordChange(() => void message.success(t("user.passwordChanged")));
  return (
    <div className="login-wrap">
      <main className="login-card" data-testid="password-required">
        <div style={{ display: "flex", justifyContent: "space-between", alignItems: "center", gap: 8, marginBottom: 12 }}>
          <h1 className="login-title">
            <KeyOutlined style={{ color: "#1677ff", marginRight: 8 }} />
            {t("user.forcedTitle")}
          </h1>
          <LangSwitch />
        </div>
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 16 }}
          message={email ? t("user.forcedBodyFor", { email }) : t("user.forcedBody")}
        />
        <PasswordFields form={form} onFinish={(v) => m.mutate(v)} error={m.isError ? m.error : undefined} />
        <Button type="primary" block loading={m.isPending} onClick={() => form.submit()} data-testid="password-required-submit">
          {t("user.forcedSubmit")}
        </Button>
        <Button
          type="link"
          block
          style={{ marginTop: 8 }}
          data-testid="password-required-logout"
          onClick={() => {
            logout("signed-out");
            qc.clear();
          }}
        >
          {t("user.logout")}
        </Button>
      </main>
    </div>
  );
}
