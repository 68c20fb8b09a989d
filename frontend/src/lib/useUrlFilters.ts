// List filters and paging kept in the URL, so a filtered list can be shared and the
// back button works.
import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router-dom";

export function useUrlFilters<K extends string>(keys: readonly K[]) {
  const [params, setParams] = useSearchParams();
  const values = useMemo(() => {
    const v = {} as Record<K, string | undefined>;
    for (const k of keys) v[k] = params.get(k) ?? undefined;
    return v;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [params, keys.join(",")]);
  const page = Math.max(1, Number(params.get("page")) || 1);
  const pageSize = Math.min(200, Math.max(1, Number(params.get("page_size")) || 20));

  const set = useCallback(
    (patch: Partial<Record<K | "page" | "page_size", string | number | undefined | null>>) => {
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          for (const [k, v] of Object.entries(patch)) {
            if (v === undefined || v === null || v === "") next.delete(k);
            else next.set(k, String(v));
          }
          // Any filter change starts again at page 1.
          if (!("page" in patch)) next.delete("page");
          return next;
        },
        { replace: true },
      );
    },
    [setParams],
  );
  const reset = useCallback(() => setParams(new URLSearchParams(), { replace: true }), [setParams]);
  return { values, page, pageSize, set, reset };
}
