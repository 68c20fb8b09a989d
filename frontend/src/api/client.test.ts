import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, buildUrl, configureClient, errorFromBody, errorMessage, isPasswordChangeRequired, request } from "./client";

function respond(status: number, body: string, headers: Record<string, string> = { "content-type": "application/json" }) {
  return vi.fn().mockImplementation(async () => new Response(status === 204 ? null : body, { status, headers }));
}

describe("buildUrl", () => {
  it("leaves out unset values and encodes the rest", () => {
    expect(buildUrl("/api/tickets", { page: 2, q: "a b&c", status: undefined, assignee: "", x: null })).toBe(
      "/api/tickets?page=2&q=a+b%26c",
    );
    expect(buildUrl("/api/info")).toBe("/api/info");
  });
});

describe("errorFromBody", () => {
  it("keeps the server's code and message", () => {
    const e = errorFromBody(409, "Conflict", '{"code":"conflict","message":"ticket changed since version 3"}');
    expect(e).toBeInstanceOf(ApiError);
    expect([e.status, e.code, e.message]).toEqual([409, "conflict", "ticket changed since version 3"]);
  });
  it("falls back to the status for an empty body and to the text for HTML", () => {
    expect(errorFromBody(502, "Bad Gateway", "").message).toBe("Bad Gateway");
    expect(errorFromBody(502, "", "<html><body><h1>502 Bad Gateway</h1></body></html>").message).toBe("502 Bad Gateway");
    expect(errorFromBody(500, "", "").code).toBe("http_500");
  });
});

describe("request", () => {
  const onUnauthorized = vi.fn();
  let token: string | null = "tok";
  beforeEach(() => {
    token = "tok";
    onUnauthorized.mockReset();
    configureClient({ baseUrl: "", getToken: () => token, onUnauthorized });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("sends the bearer token and JSON, and parses JSON", async () => {
    const f = respond(200, '{"no":"INC-1"}');
    vi.stubGlobal("fetch", f);
    const r = await request<{ no: string }>("/api/tickets", { method: "POST", body: { title: "x" } });
    expect(r.no).toBe("INC-1");
    const [url, init] = f.mock.calls[0] as [string, RequestInit];
    expect(url).toBe("/api/tickets");
    expect(init.method).toBe("POST");
    expect(init.body).toBe('{"title":"x"}');
    const h = init.headers as Record<string, string>;
    expect(h.Authorization).toBe("Bearer tok");
    expect(h["Content-Type"]).toBe("application/json");
  });

  it("does not send a token when auth is off or there is none", async () => {
    const f = respond(200, "{}");
    vi.stubGlobal("fetch", f);
    await request("/api/info", { auth: false });
    token = null;
    await request("/api/auth/me");
    for (const call of f.mock.calls) expect((call[1] as RequestInit).headers).not.toHaveProperty("Authorization");
  });

  it("returns undefined for 204", async () => {
    vi.stubGlobal("fetch", respond(204, ""));
    await expect(request("/api/datasources/1", { method: "DELETE" })).resolves.toBeUndefined();
  });

  it("throws ApiError with the server's message", async () => {
    vi.stubGlobal("fetch", respond(422, '{"code":"invalid","message":"url: must be http or https"}'));
    const e = await request("/api/datasources", { method: "POST", body: {} }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(errorMessage(e)).toBe("url: must be http or https");
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("reports a 401 on an authenticated call, not on login", async () => {
    vi.stubGlobal("fetch", respond(401, '{"code":"unauthorized","message":"token expired"}'));
    await expect(request("/api/auth/me")).rejects.toMatchObject({ status: 401, message: "token expired" });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    await expect(request("/api/auth/login", { method: "POST", body: {}, auth: false })).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it("reports a 403 password_change_required, but no other 403", async () => {
    const onPasswordChangeRequired = vi.fn();
    configureClient({ onPasswordChangeRequired });
    vi.stubGlobal("fetch", respond(403, '{"code":"password_change_required","message":"change it first"}'));
    const e = await request("/api/tickets").catch((x: unknown) => x);
    expect(isPasswordChangeRequired(e)).toBe(true);
    expect(onPasswordChangeRequired).toHaveBeenCalledTimes(1);
    expect(onUnauthorized).not.toHaveBeenCalled();
    vi.stubGlobal("fetch", respond(403, '{"code":"forbidden","message":"viewers may not"}'));
    const other = await request("/api/tickets").catch((x: unknown) => x);
    expect(isPasswordChangeRequired(other)).toBe(false);
    expect(onPasswordChangeRequired).toHaveBeenCalledTimes(1);
  });

  it("turns a network failure into an ApiError with code network", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    await expect(request("/api/info")).rejects.toMatchObject({ status: 0, code: "network", message: "Failed to fetch" });
  });

  it("rejects a 200 that is not JSON", async () => {
    vi.stubGlobal("fetch", respond(200, "<!doctype html>", { "content-type": "text/html" }));
    await expect(request("/api/info")).rejects.toMatchObject({ code: "bad_response" });
  });
});
