import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router-dom";
import { useAuth, validToken, loginUrl } from "../store/auth";
import { useMe } from "../lib/queries";
import { useT } from "../i18n";
import { hasRole } from "../lib/tickets";
import type { Role } from "../api/types";
import { PageSpinner, ShellError } from "./shell";
import ForcedPasswordChange from "./ForcedPasswordChange";

/**
 * Renders `children` for a signed-in user; otherwise goes to the login page, remembering
 * where it was. While the account still has the default password (its profile says so,
 * or the server answered 403 `password_change_required`) only the blocking password
 * form is shown; after the change the same page carries on with the new token.
 */
export function RequireAuth({ children }: { children: ReactNode }) {
  const token = useAuth((s) => validToken(s));
  const changeRequired = useAuth((s) => s.passwordChangeRequired);
  const signedOut = useAuth((s) => s.reason === "signed-out");
  const location = useLocation();
  const me = useMe();
  const t = useT();
  // After an expired session (or on a link opened while signed out) come back here
  // after logging in; after "Sign out", start from the home page.
  if (!token) return <Navigate to={signedOut ? "/login" : loginUrl(location.pathname + location.search)} replace />;
  if (me.isPending) return <PageSpinner />;
  if (me.isError)
    return <ShellError title={t("common.error")} error={me.error} onRetry={() => void me.refetch()} />;
  if (changeRequired || me.data.password_is_default) return <ForcedPasswordChange email={me.data.email} />;
  return <>{children}</>;
}

export function RequireRole({ role, children }: { role: Role; children: ReactNode }) {
  const me = useMe();
  const t = useT();
  if (!hasRole(me.data?.role, role)) return <ShellError title={t("common.forbidden")} />;
  return <>{children}</>;
}
