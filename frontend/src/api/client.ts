// A thin fetch wrapper over the REST API: JSON in and out, the bearer token from the
// auth store, errors as ApiError carrying the server's `{code, message}`, and a 401 on
// an authenticated call reported once to whoever configured `onUnauthorized` (and a 403
// `password_change_required`, the default password still in use, to
// `onPasswordChangeRequired`).

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

export type QueryValue = string | number | boolean | null | undefined;
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the bearer token and treat 401 as "logged out" (default true). */
  auth?: boolean;
  signal?: AbortSignal;
}

interface ClientConfig {
  baseUrl: string;
  getToken: () => string | null;
  onUnauthorized: (err: ApiError) => void;
  /** A 403 `password_change_required`: the account must change its password first. */
  onPasswordChangeRequired: (err: ApiError) => void;
}

const config: ClientConfig = {
  baseUrl: "",
  getToken: () => null,
  onUnauthorized: () => {},
  onPasswordChangeRequired: () => {},
};

export function configureClient(c: Partial<ClientConfig>): void {
  Object.assign(config, c);
}

export function authHeader(): Record<string, string> {
  const token = config.getToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export function notifyUnauthorized(err: ApiError): void {
  config.onUnauthorized(err);
}

/** The code the server answers (403) while the account still has the default password. */
export const PASSWORD_CHANGE_REQUIRED = "password_change_required";

/** Whether `e` is the server's "change the default password first". */
export function isPasswordChangeRequired(e: unknown): boolean {
  return e instanceof ApiError && e.status === 403 && e.code === PASSWORD_CHANGE_REQUIRED;
}

/** `path` plus the query string of every set value (null/undefined/"" are left out). */
export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === "") continue;
    params.append(k, String(v));
  }
  const qs = params.toString();
  return `${config.baseUrl}${path}${qs ? `?${qs}` : ""}`;
}

/** Turns a non-2xx response body into an ApiError, keeping the server's words. */
export function errorFromBody(status: number, statusText: string, text: string): ApiError {
  let code = `http_${status}`;
  let message = statusText || `HTTP ${status}`;
  if (text) {
    try {
      const body: unknown = JSON.parse(text);
      if (body && typeof body === "object") {
        const b = body as Record<string, unknown>;
        if (typeof b.code === "string") code = b.code;
        if (typeof b.message === "string" && b.message) message = b.message;
        else if (typeof b.error === "string" && b.error) message = b.error;
      }
    } catch {
      // Not JSON (a proxy's HTML page, plain text): show a short piece of it.
      const plain = text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
      if (plain) message = plain.slice(0, 200);
    }
  }
  return new ApiError(status, code, message);
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const auth = opts.auth ?? true;
  const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (auth) Object.assign(headers, authHeader());

  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method: opts.method ?? (opts.body === undefined ? "GET" : "POST"),
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "network", e instanceof Error ? e.message : String(e));
  }

  const text = res.status === 204 ? "" : await res.text();
  if (!res.ok) {
    const err = errorFromBody(res.status, res.statusText, text);
    if (res.status === 401 && auth) notifyUnauthorized(err);
    if (auth && isPasswordChangeRequired(err)) config.onPasswordChangeRequired(err);
    throw err;
  }
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, "bad_response", "The server answered with something other than JSON.");
  }
}

/** A message for any thrown value, preferring the server's. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
