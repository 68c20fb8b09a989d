import { useEffect } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router-dom";
import { Alert, Button, Form, Input } from "antd";
import { AlertOutlined, LockOutlined, MailOutlined } from "@ant-design/icons";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/endpoints";
import { errorMessage } from "../api/client";
import { safeNext, useAuth, validToken } from "../store/auth";
import { useServerInfo } from "../lib/queries";
import { useT } from "../i18n";
import { LangSwitch } from "../components/shell";

interface Values {
  email: string;
  password: string;
}

export default function LoginPage() {
  const t = useT();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const token = useAuth((s) => validToken(s));
  const { login, reason, clearReason } = useAuth();
  const info = useServerInfo();
  const next = safeNext(params.get("next"));

  const m = useMutation({
    mutationFn: (v: Values) => api.login(v.email.trim(), v.password),
    onSuccess: (r) => {
      qc.clear();
      login(r.access_token, r.expires_in);
      navigate(next, { replace: true });
    },
  });

  useEffect(() => () => clearReason(), [clearReason]);

  // Pre-fill the default account once /api/info says it is still in use, unless the
  // user has typed something already.
  const [form] = Form.useForm<Values>();
  const defaultAccount = info.data?.default_account;
  useEffect(() => {
    if (defaultAccount && !form.isFieldTouched("email") && !form.getFieldValue("email")) form.setFieldValue("email", defaultAccount);
  }, [defaultAccount, form]);

  if (token && !m.isSuccess) return <Navigate to={next} replace />;

  return (
    <div className="login-wrap">
      <main className="login-card">
        <div style={{ marginBottom: 20 }}>
          <div style={{ display: "flex", justifyContent: "space-between", alignItems: "center", gap: 8 }}>
            <h1 className="login-title">
              <AlertOutlined style={{ color: "#1677ff", marginRight: 8 }} />
              {t("app.name")}
            </h1>
            <LangSwitch />
          </div>
          <div className="login-sub">{t("app.tagline")}</div>
        </div>
        {reason === "expired" && !m.isError && (
          <Alert type="warning" showIcon message={t("login.expired")} style={{ marginBottom: 16 }} />
        )}
        {m.isError && <Alert type="error" showIcon message={errorMessage(m.error)} style={{ marginBottom: 16 }} data-testid="login-error" />}
        <Form<Values> form={form} layout="vertical" onFinish={(v) => m.mutate(v)} requiredMark={false}>
          <Form.Item name="email" label={t("login.email")} rules={[{ required: true, message: t("login.required") }]}>
            <Input id="email" prefix={<MailOutlined />} autoComplete="username" autoFocus />
          </Form.Item>
          <Form.Item name="password" label={t("login.password")} rules={[{ required: true, message: t("login.required") }]}>
            <Input.Password id="password" prefix={<LockOutlined />} autoComplete="current-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={m.isPending} data-testid="login-submit">
            {t("login.submit")}
          </Button>
        </Form>
        {defaultAccount && (
          <Alert type="info" showIcon style={{ marginTop: 16 }} message={t("login.defaultHint", { email: defaultAccount })} data-testid="default-hint" />
        )}
        {info.data?.version && <div className="login-version">v{info.data.version}</div>}
      </main>
    </div>
  );
}
