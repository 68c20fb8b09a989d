// Progress of a running analysis from `GET /api/analysis/{id}/events` (Server-Sent
// Events). The stream is opened with a single-use, short-lived ticket from
// `POST /api/analysis/{id}/stream-ticket` (never the access token in a URL, where
// proxies log it) and read with fetch. When the endpoint is not there (404/405/501,
// or the SPA page instead of a stream) the caller is told to poll instead.
import { ApiError, authHeader, buildUrl, errorFromBody, notifyUnauthorized } from "../api/client";
import { parseToolCall, type ToolCall } from "./analysis";

export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

/** Incremental parser of the text/event-stream format (WHATWG HTML §9.2.6). */
export class SseParser {
  private buf = "";
  private data: string[] = [];
  private event = "";
  private id: string | undefined;

  /** Feeds a chunk; returns the messages completed by it. */
  push(chunk: string): SseMessage[] {
    this.buf += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      // A lone \r at the end of the buffer may be the first half of \r\n.
      if (m[0] === "\r" && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line, out);
    }
    return out;
  }

  /** Flushes at the end of the stream (a last message without its blank line is dropped, as browsers do). */
  end(): SseMessage[] {
    this.buf = "";
    this.data = [];
    this.event = "";
    return [];
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === "") {
      if (this.data.length) {
        const msg: SseMessage = { event: this.event || "message", data: this.data.join("\n") };
        if (this.id !== undefined) msg.id = this.id;
        out.push(msg);
      }
      this.data = [];
      this.event = "";
      return;
    }
    if (line.startsWith(":")) return;
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? "" : line.slice(i + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.id = value;
  }
}

/** One progress event of an analysis. */
export interface ProgressEvent {
  stage: string;
  message: string;
  at?: string;
  /** Set when the event carries the analysis status. */
  status?: string;
  /** The LLM agent's tool call this event reports (`data.tool`). */
  tool?: ToolCall;
}

/** Reads a progress event from an SSE message: JSON `{stage, message, ...}` or plain text. */
export function toProgress(m: SseMessage): ProgressEvent {
  try {
    const v: unknown = JSON.parse(m.data);
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const s = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : undefined);
      const ev: ProgressEvent = {
        stage: s("stage") ?? s("status") ?? (m.event !== "message" ? m.event : "progress"),
        message: s("message") ?? s("detail") ?? "",
      };
      const at = s("at") ?? s("time") ?? s("ts");
      if (at) ev.at = at;
      const status = s("status");
      if (status) ev.status = status;
      const data = o.data;
      const tool = data && typeof data === "object" && !Array.isArray(data) ? parseToolCall((data as Record<string, unknown>).tool) : null;
      if (tool) ev.tool = tool;
      return ev;
    }
  } catch {
    // plain text data
  }
  return { stage: m.event !== "message" ? m.event : "progress", message: m.data };
}

export type StreamOutcome = "ended" | "unavailable" | "aborted" | "error";

export interface StreamHandlers {
  onOpen?: () => void;
  onEvent: (e: ProgressEvent) => void;
}

/**
 * Follows the progress stream of analysis `id` until it ends. Resolves to
 * `unavailable` when the server has no stream for it (the caller polls instead).
 */
export async function followAnalysis(id: string, h: StreamHandlers, signal: AbortSignal): Promise<StreamOutcome> {
  const path = `/api/analysis/${encodeURIComponent(id)}`;
  let ticket: string;
  try {
    const t = await fetch(buildUrl(`${path}/stream-ticket`), {
      method: "POST",
      headers: { Accept: "application/json", ...authHeader() },
      signal,
      cache: "no-store",
    });
    if (t.status === 401) {
      notifyUnauthorized(errorFromBody(401, t.statusText, await t.text().catch(() => "")));
      return "error";
    }
    if ([404, 405, 501].includes(t.status)) return "unavailable";
    const type = t.headers.get("content-type") ?? "";
    if (t.ok && !type.includes("json")) return "unavailable";
    if (!t.ok) return "error";
    const body = (await t.json()) as { ticket?: unknown };
    if (typeof body.ticket !== "string") return "error";
    ticket = body.ticket;
  } catch {
    return signal.aborted ? "aborted" : "error";
  }
  let res: Response;
  try {
    res = await fetch(buildUrl(`${path}/events`, { ticket }), {
      headers: { Accept: "text/event-stream" },
      signal,
      cache: "no-store",
    });
  } catch {
    return signal.aborted ? "aborted" : "error";
  }
  // A refused ticket is not a lost session (another server behind a load balancer
  // may have issued it): poll instead.
  if ([401, 404, 405, 501].includes(res.status)) return "unavailable";
  const type = res.headers.get("content-type") ?? "";
  if (!res.ok || !type.includes("text/event-stream") || !res.body) {
    if (res.ok && !type.includes("text/event-stream")) return "unavailable";
    return "error";
  }
  h.onOpen?.();
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const m of parser.push(decoder.decode(value, { stream: true }))) h.onEvent(toProgress(m));
    }
    parser.end();
    return "ended";
  } catch (e) {
    if (signal.aborted) return "aborted";
    if (e instanceof ApiError) return "error";
    return "error";
  }
}
