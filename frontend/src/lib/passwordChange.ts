// Changing the caller's own password (the dialog and the blocking default-password form).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/endpoints";
import { useAuth } from "../store/auth";

export interface PasswordValues {
  current: string;
  next: string;
  again: string;
}

/**
 * Changes the caller's password. The change revokes every earlier token, this
 * session's too, so the session carries on with the one the answer brings; then every
 * query is fetched again with it (`onDone` runs after).
 */
export function usePasswordChange(onDone: () => void) {
  const qc = useQueryClient();
  const login = useAuth((s) => s.login);
  return useMutation({
    mutationFn: (v: PasswordValues) => api.changePassword(v.current, v.next),
    onSuccess: (r) => {
      login(r.access_token, r.expires_in);
      void qc.invalidateQueries();
      onDone();
    },
  });
}
