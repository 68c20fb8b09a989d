import { describe, expect, it } from "vitest";
import { alertmanagerSnippet, endpointUrl, grafanaSnippet } from "./webhooks";

describe("webhook sender snippets", () => {
  it("joins the server's origin and the endpoint's path", () => {
    expect(endpointUrl("http://127.0.0.1:8000/", "/api/webhooks/alertmanager/x")).toBe("http://127.0.0.1:8000/api/webhooks/alertmanager/x");
    expect(endpointUrl("http://h", "api/x")).toBe("http://h/api/x");
  });
  it("writes the token where each sender expects it", () => {
    const am = alertmanagerSnippet("http://h/api/webhooks/alertmanager/1", "tok");
    expect(am).toContain("- url: http://h/api/webhooks/alertmanager/1");
    expect(am).toContain("credentials: tok");
    expect(am).toContain("send_resolved: true");
    const g = grafanaSnippet("http://h/api/webhooks/grafana/1", "tok");
    expect(g).toContain("URL: http://h/api/webhooks/grafana/1");
    expect(g).toContain("Credentials: tok");
  });
});
