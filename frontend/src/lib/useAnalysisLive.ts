// An analysis kept current while it runs: the SSE progress stream when the server
// has one, else polling `GET /api/analysis/{id}` every 2 s.
import { useEffect, useRef, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/endpoints";
import { followAnalysis, type ProgressEvent } from "./sse";
import { isFinal } from "./analysis";

export type LiveMode = "connecting" | "stream" | "polling" | "done";

export const POLL_MS = 2_000;
const STREAM_SAFETY_POLL_MS = 15_000;

export function useAnalysisLive(id: string) {
  const qc = useQueryClient();
  const [mode, setMode] = useState<LiveMode>("connecting");
  const [events, setEvents] = useState<ProgressEvent[]>([]);
  const lastRefetch = useRef(0);

  const query = useQuery({
    queryKey: ["analysis", id],
    queryFn: () => api.analysis(id),
    refetchInterval: (q) => {
      if (isFinal(q.state.data?.status)) return false;
      return mode === "stream" ? STREAM_SAFETY_POLL_MS : POLL_MS;
    },
  });
  const loaded = query.data !== undefined;
  const final = isFinal(query.data?.status);

  useEffect(() => {
    if (!loaded || final) return;
    const ctl = new AbortController();
    const refetch = () => {
      lastRefetch.current = Date.now();
      void qc.invalidateQueries({ queryKey: ["analysis", id] });
    };
    void followAnalysis(
      id,
      {
        onOpen: () => setMode("stream"),
        onEvent: (e) => {
          setEvents((list) => [...list, e]);
          // The stream says what happens; the document says what is stored. Re-read it
          // on stage changes, at most once a second.
          if (Date.now() - lastRefetch.current > 1000 || isFinal(e.status ?? e.stage)) refetch();
        },
      },
      ctl.signal,
    ).then((outcome) => {
      if (outcome === "aborted") return;
      setMode("polling");
      refetch();
    });
    return () => ctl.abort();
  }, [id, loaded, final, qc]);

  return { query, events, mode: final ? ("done" as const) : mode };
}
