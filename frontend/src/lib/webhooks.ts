// Sender configuration for a webhook endpoint: what an admin pastes into
// Alertmanager or Grafana (the token is shown once, when created or rotated).

/** The absolute URL of an endpoint's `path` on this server. */
export function endpointUrl(origin: string, path: string): string {
  return `${origin.replace(/\/+$/, "")}${path.startsWith("/") ? path : `/${path}`}`;
}

/** An `alertmanager.yml` receiver posting to `url` with `token`. */
export function alertmanagerSnippet(url: string, token: string): string {
  return [
    "receivers:",
    "  - name: oncall",
    "    webhook_configs:",
    `      - url: ${url}`,
    "        http_config:",
    "          authorization:",
    `            credentials: ${token}`,
    "        send_resolved: true",
  ].join("\n");
}

/** The settings of a Grafana webhook contact point posting to `url` with `token`. */
export function grafanaSnippet(url: string, token: string): string {
  return [
    "Integration: Webhook",
    `URL: ${url}`,
    "HTTP Method: POST",
    "Authorization header - Scheme: Bearer",
    `Authorization header - Credentials: ${token}`,
  ].join("\n");
}
