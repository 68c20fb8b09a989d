import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router-dom";
import { Button, Result } from "antd";
import { useAuth, validToken, loginUrl } from "../store/auth";
import { useMe } from "../lib/queries";
import { useT } from "../i18n";
import { errorMessage } from "../api/client";
import { hasRole } from "../lib/tickets";
import type { Role } from "../api/types";
import { PageSpinner } from "./common";

/** Renders `children` for a signed-in user; otherwise goes to the login page, remembering where it was. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const token = useAuth((s) => validToken(s));
  const location = useLocation();
  const me = useMe();
  const t = useT();
  if (!token) return <Navigate to={loginUrl(location.pathname + location.search)} replace />;
  if (me.isPending) return <PageSpinner />;
  if (me.isError)
    return (
      <Result
        status="error"
        title={t("common.error")}
        subTitle={errorMessage(me.error)}
        extra={<Button onClick={() => void me.refetch()}>{t("common.retry")}</Button>}
      />
    );
  return <>{children}</>;
}

export function RequireRole({ role, children }: { role: Role; children: ReactNode }) {
  const me = useMe();
  const t = useT();
  if (!hasRole(me.data?.role, role)) return <Result status="403" title="403" subTitle={t("common.forbidden")} />;
  return <>{children}</>;
}
