import { afterEach, describe, expect, it, vi } from "vitest";
import { configureClient } from "../api/client";
import { followAnalysis, SseParser, toProgress, type ProgressEvent } from "./sse";

describe("SseParser", () => {
  it("splits messages across arbitrary chunks and line endings", () => {
    const p = new SseParser();
    const text = 'event: stage\ndata: {"stage":"collecting"}\n\r\n: keep-alive\n\ndata: line1\r\ndata: line2\r\rid: 7\ndata:x\n\n';
    const out = [];
    for (const ch of text) out.push(...p.push(ch));
    expect(out).toEqual([
      { event: "stage", data: '{"stage":"collecting"}' },
      { event: "message", data: "line1\nline2" },
      { event: "message", data: "x", id: "7" },
    ]);
  });
  it("drops an unterminated last message", () => {
    const p = new SseParser();
    expect(p.push("data: half")).toEqual([]);
    expect(p.end()).toEqual([]);
  });
});

describe("toProgress", () => {
  it("reads JSON events and plain text", () => {
    expect(toProgress({ event: "message", data: '{"stage":"collecting","message":"loki: 120 lines","at":"2026-01-01T00:00:00Z"}' })).toEqual({
      stage: "collecting",
      message: "loki: 120 lines",
      at: "2026-01-01T00:00:00Z",
    });
    expect(toProgress({ event: "analyzing", data: "asking the model" })).toEqual({ stage: "analyzing", message: "asking the model" });
    expect(toProgress({ event: "message", data: '{"status":"completed"}' })).toEqual({ stage: "completed", message: "", status: "completed" });
  });
  it("reads the LLM agent's tool call from data.tool", () => {
    const tool = { name: "query_metrics", arguments: '{"source":"prom"}', rows: 4, ms: 120 };
    const data = JSON.stringify({ stage: "analyzing", message: "tool query_metrics: 4 rows in 120 ms", data: { tool } });
    expect(toProgress({ event: "message", data })).toEqual({
      stage: "analyzing",
      message: "tool query_metrics: 4 rows in 120 ms",
      tool: { ...tool, error: null },
    });
    expect(toProgress({ event: "message", data: '{"stage":"analyzing","message":"x","data":{"tool":"no"}}' })).toEqual({ stage: "analyzing", message: "x" });
  });
});

describe("followAnalysis", () => {
  afterEach(() => vi.unstubAllGlobals());
  configureClient({ getToken: () => "tok", baseUrl: "" });

  it("says unavailable on 404 so the caller polls", async () => {
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(new Response('{"code":"not_found","message":"not found"}', { status: 404 })));
    await expect(followAnalysis("id", { onEvent: () => {} }, new AbortController().signal)).resolves.toBe("unavailable");
  });

  it("says unavailable when the answer is not an event stream (the SPA page)", async () => {
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(new Response("<!doctype html>", { status: 200, headers: { "content-type": "text/html" } })));
    await expect(followAnalysis("id", { onEvent: () => {} }, new AbortController().signal)).resolves.toBe("unavailable");
  });

  it("says unavailable when the ticket endpoint answers the SPA page", async () => {
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(new Response("<!doctype html>", { status: 200, headers: { "content-type": "text/html" } })));
    await expect(followAnalysis("id", { onEvent: () => {} }, new AbortController().signal)).resolves.toBe("unavailable");
  });

  it("reads events with a single-use ticket (never the token in the URL) until the stream ends", async () => {
    const enc = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode('data: {"stage":"collecting","message":"querying 2 sources"}\n\ndata: {"stage":"anal'));
        c.enqueue(enc.encode('yzing","message":"ranking"}\n\n'));
        c.close();
      },
    });
    const f = vi
      .fn()
      .mockResolvedValueOnce(new Response('{"ticket":"tkt-1","expires_in":30}', { status: 200, headers: { "content-type": "application/json; charset=utf-8" } }))
      .mockResolvedValueOnce(new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } }));
    vi.stubGlobal("fetch", f);
    const events: ProgressEvent[] = [];
    let opened = false;
    const outcome = await followAnalysis("a1", { onOpen: () => (opened = true), onEvent: (e) => events.push(e) }, new AbortController().signal);
    expect(outcome).toBe("ended");
    expect(opened).toBe(true);
    expect(events.map((e) => e.stage)).toEqual(["collecting", "analyzing"]);
    const [ticketUrl, ticketInit] = f.mock.calls[0] as [string, RequestInit];
    expect(ticketUrl).toBe("/api/analysis/a1/stream-ticket");
    expect(ticketInit.method).toBe("POST");
    expect((ticketInit.headers as Record<string, string>).Authorization).toBe("Bearer tok");
    const [url, init] = f.mock.calls[1] as [string, RequestInit];
    expect(url).toBe("/api/analysis/a1/events?ticket=tkt-1");
    expect(url).not.toContain("access_token");
    expect((init.headers as Record<string, string>).Authorization).toBeUndefined();
  });
});
