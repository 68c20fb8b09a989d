// What the app shell needs before any page loads: spinner, language switch, a plain
// error box. Kept apart from components/common.tsx (Typography, tags...), which the
// lazily loaded pages share, so the first load stays small.
import { Alert, Button, Select, Spin } from "antd";
import { errorMessage } from "../api/client";
import { useT } from "../i18n";
import { useLang, type Lang } from "../store/lang";

export function PageSpinner() {
  return (
    <div style={{ padding: 48, textAlign: "center" }}>
      <Spin size="large" />
    </div>
  );
}

export function ShellError({ title, error, onRetry }: { title: string; error?: unknown; onRetry?: () => void }) {
  const t = useT();
  return (
    <div style={{ maxWidth: 560, margin: "64px auto", padding: 16 }}>
      <Alert
        type="error"
        showIcon
        message={title}
        description={error === undefined ? undefined : errorMessage(error)}
        action={onRetry ? <Button onClick={onRetry}>{t("common.retry")}</Button> : undefined}
      />
    </div>
  );
}

export function LangSwitch({ style }: { style?: React.CSSProperties }) {
  const { lang, setLang } = useLang();
  const t = useT();
  return (
    <Select<Lang>
      aria-label={t("common.language")}
      data-testid="lang-switch"
      className="lang-switch"
      value={lang}
      onChange={setLang}
      style={{ width: 110, ...style }}
      options={[
        { value: "zh-CN", label: "简体中文" },
        { value: "en", label: "English" },
      ]}
    />
  );
}
