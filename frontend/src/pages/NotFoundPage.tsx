import { Link } from "react-router-dom";
import { Button, Result } from "antd";
import { useT } from "../i18n";

export default function NotFoundPage() {
  const t = useT();
  return (
    <Result
      status="404"
      title="404"
      subTitle={t("common.notFound")}
      extra={
        <Link to="/">
          <Button type="primary">{t("common.home")}</Button>
        </Link>
      }
    />
  );
}
