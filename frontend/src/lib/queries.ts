// Shared queries.
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/endpoints";
import { useAuth, validToken } from "../store/auth";
import { hasRole } from "./tickets";
import type { Role } from "../api/types";

export function useMe() {
  const token = useAuth((s) => validToken(s));
  return useQuery({ queryKey: ["me", token], queryFn: api.me, enabled: !!token, staleTime: 60_000 });
}

export function useServerInfo() {
  return useQuery({ queryKey: ["info"], queryFn: api.info, staleTime: 60_000 });
}

/** Whether the signed-in user has at least `min`. */
export function useCan(min: Role): boolean {
  const me = useMe();
  return hasRole(me.data?.role, min);
}
