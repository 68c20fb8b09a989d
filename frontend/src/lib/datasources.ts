// Data-source form logic: the defaults of each type (SPEC §4) and the mapping
// between the form and the API's input (secrets are write-only).
import type { AuthKind, DataSource, DataSourceInput, DataSourceKind } from "../api/types";

export const DEFAULT_PORT: Record<DataSourceKind, number> = { elk: 9200, loki: 3100, prometheus: 9090 };

export function defaultUrl(kind: DataSourceKind): string {
  return `http://localhost:${DEFAULT_PORT[kind]}`;
}

/** Whether `url` is still a type default (so switching the type may replace it). */
export function isDefaultUrl(url: string | undefined): boolean {
  if (!url) return true;
  return Object.values(DEFAULT_PORT).some((p) => url === `http://localhost:${p}`);
}

export interface DsFormValues {
  name: string;
  type: DataSourceKind;
  url: string;
  authType: AuthKind;
  username?: string;
  password?: string;
  token?: string;
  index?: string;
  timestampField?: string;
  messageField?: string;
  labels?: string;
  enabled: boolean;
  timeout_ms: number;
}

type Obj = Record<string, unknown>;

function cfg(d: DataSource): Obj {
  return d.config && typeof d.config === "object" && !Array.isArray(d.config) ? (d.config as Obj) : {};
}

function s(v: unknown): string | undefined {
  return typeof v === "string" && v ? v : undefined;
}

export function newFormValues(kind: DataSourceKind = "prometheus"): DsFormValues {
  return {
    name: "",
    type: kind,
    url: defaultUrl(kind),
    authType: "none",
    index: kind === "elk" ? "logs-*" : undefined,
    enabled: true,
    timeout_ms: 10_000,
  };
}

export function toFormValues(d: DataSource): DsFormValues {
  const c = cfg(d);
  return {
    name: d.name,
    type: d.type,
    url: d.url,
    authType: d.auth.type,
    username: d.auth.username ?? undefined,
    index: s(c.index),
    timestampField: s(c.timestamp_field),
    messageField: s(c.message_field),
    labels: s(c.labels),
    enabled: d.enabled,
    timeout_ms: d.timeout_ms,
  };
}

/**
 * The API input for the form. Config keys of other types are dropped; on an edit
 * (`existing` given) unknown config keys are kept, and empty secrets are left out so
 * the stored ones stay.
 */
export function toInput(v: DsFormValues, existing?: DataSource): DataSourceInput {
  const config: Obj = existing ? { ...cfg(existing) } : {};
  for (const k of ["index", "timestamp_field", "message_field", "labels"]) delete config[k];
  if (v.type === "elk") {
    if (v.index?.trim()) config.index = v.index.trim();
    if (v.timestampField?.trim()) config.timestamp_field = v.timestampField.trim();
    if (v.messageField?.trim()) config.message_field = v.messageField.trim();
  }
  if (v.type === "loki" && v.labels?.trim()) config.labels = v.labels.trim();

  const auth: DataSourceInput["auth"] = { type: v.authType };
  if (v.authType === "basic") {
    auth.username = v.username?.trim() ?? "";
    if (v.password) auth.password = v.password;
  }
  if (v.authType === "bearer" && v.token) auth.token = v.token;

  return {
    name: v.name.trim(),
    type: v.type,
    url: v.url.trim(),
    auth,
    config,
    enabled: v.enabled,
    timeout_ms: v.timeout_ms,
  };
}

/** The input that changes only `enabled` of an existing source. */
export function withEnabled(d: DataSource, enabled: boolean): DataSourceInput {
  return { ...toInput(toFormValues(d), d), enabled };
}
