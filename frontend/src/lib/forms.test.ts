import { describe, expect, it } from "vitest";
import type { DataSource } from "../api/types";
import { defaultUrl, isDefaultUrl, newFormValues, toFormValues, toInput, withEnabled } from "./datasources";
import { buildSubmission, parseAlertInput, sampleAlertmanager } from "./alertInput";

const stored: DataSource = {
  id: "d1",
  name: "es-prod",
  type: "elk",
  url: "https://es:9200",
  auth: { type: "basic", username: "ro", has_password: true, has_token: false },
  config: { index: "logs-*", message_field: "msg", extra: 1 },
  enabled: true,
  timeout_ms: 5000,
  created_at: "",
  updated_at: "",
};

describe("data source form", () => {
  it("type defaults", () => {
    expect(defaultUrl("elk")).toBe("http://localhost:9200");
    expect(defaultUrl("loki")).toBe("http://localhost:3100");
    expect(newFormValues("elk")).toMatchObject({ url: "http://localhost:9200", index: "logs-*" });
    expect(isDefaultUrl("http://localhost:9090")).toBe(true);
    expect(isDefaultUrl("http://prom:9090")).toBe(false);
  });
  it("an edit without a new password keeps the stored one (omits it) and keeps unknown config", () => {
    const input = toInput({ ...toFormValues(stored), index: "app-*" }, stored);
    expect(input.auth).toEqual({ type: "basic", username: "ro" });
    expect(input.config).toEqual({ index: "app-*", message_field: "msg", extra: 1 });
    expect(toInput({ ...toFormValues(stored), password: "s3cret" }, stored).auth).toEqual({ type: "basic", username: "ro", password: "s3cret" });
  });
  it("drops the config of other types and secrets of other auth kinds", () => {
    const input = toInput({ ...newFormValues("loki"), name: " loki ", labels: ' {app="api"} ', index: "logs-*", authType: "bearer", token: "t", password: "p" });
    expect(input).toMatchObject({ name: "loki", type: "loki", config: { labels: '{app="api"}' }, auth: { type: "bearer", token: "t" } });
    expect(input.auth).not.toHaveProperty("password");
  });
  it("toggling enabled changes nothing else", () => {
    const input = withEnabled(stored, false);
    expect(input).toMatchObject({ enabled: false, name: "es-prod", url: "https://es:9200", timeout_ms: 5000 });
    expect(input.auth).not.toHaveProperty("password");
  });
});

describe("alert input", () => {
  it("sends JSON objects as objects, anything else as text", () => {
    expect(parseAlertInput(sampleAlertmanager()).json).toBe(true);
    expect(parseAlertInput('  {"broken": ').alert).toBe('{"broken":');
    expect(parseAlertInput("[1,2]").json).toBe(false);
    expect(parseAlertInput(" CPU high on web-1 \n").alert).toBe("CPU high on web-1");
  });
  it("only sends options that were set", () => {
    expect(buildSubmission("x", { language: "auto" }, false)).toEqual({ alert: "x" });
    expect(buildSubmission("x", { llm: false, language: "zh", baseline_minutes: 60, incident_minutes: null }, true)).toEqual({
      alert: "x",
      options: { llm: false, language: "zh", baseline_minutes: 60 },
    });
    expect(buildSubmission("x", { llm: true }, false)).toEqual({ alert: "x" });
  });
});
