-- Alert intake and hand-off. Keep in step with ../mysql/0005_webhooks.sql.
--
-- webhooks: receiving endpoints for Alertmanager / Grafana; the token is stored as
--   its SHA-256 (hex), never in clear. last_received_at is also the row every intake
--   transaction of the endpoint locks first, so deduplication is serialised per
--   endpoint across processes.
-- alert_dedup: open deduplication keys (`fp:<fingerprint>`, `group:<hash>`) of an
--   endpoint and the analysis they attach to; a key is open while last_seen_at is
--   within the endpoint's window.
-- alert_occurrences: every alert accepted, firing or resolved, with the analysis it
--   started or joined (none when auto-analysis is off or it was filtered out).
-- notification_channels: where results are posted; URL and signing secret sealed.
-- notification_outbox: durable deliveries, retried with backoff; one row per
--   (channel, event), so an event is enqueued at most once per channel.

CREATE TABLE webhooks (
    id               TEXT    NOT NULL PRIMARY KEY,
    name             TEXT    NOT NULL UNIQUE,
    kind             TEXT    NOT NULL CHECK (kind IN ('alertmanager', 'grafana')),
    token_hash       TEXT    NOT NULL,
    options          TEXT    NOT NULL,
    enabled          BOOLEAN NOT NULL DEFAULT 1,
    created_by       TEXT    NOT NULL,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    last_received_at TEXT
);

CREATE TABLE alert_dedup (
    webhook_id    TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    dedup_key     TEXT NOT NULL,
    analysis_id   TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    PRIMARY KEY (webhook_id, dedup_key)
);

CREATE TABLE alert_occurrences (
    id          TEXT NOT NULL PRIMARY KEY,
    webhook_id  TEXT NOT NULL,
    analysis_id TEXT,
    fingerprint TEXT NOT NULL,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
    outcome     TEXT NOT NULL,
    payload     TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX alert_occurrences_analysis ON alert_occurrences (analysis_id, id);
CREATE INDEX alert_occurrences_webhook ON alert_occurrences (webhook_id, id);

CREATE INDEX tickets_analysis ON tickets (analysis_id);

CREATE TABLE notification_channels (
    id            TEXT    NOT NULL PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    kind          TEXT    NOT NULL CHECK (kind IN ('webhook', 'slack', 'feishu', 'dingtalk', 'wecom')),
    url_sealed    TEXT    NOT NULL,
    url_hint      TEXT    NOT NULL,
    secret_sealed TEXT,
    events        TEXT    NOT NULL,
    enabled       BOOLEAN NOT NULL DEFAULT 1,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);

CREATE TABLE notification_outbox (
    id              TEXT    NOT NULL PRIMARY KEY,
    channel_id      TEXT    NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
    event_key       TEXT    NOT NULL,
    notice          TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    locked_until    TEXT,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    delivered_at    TEXT,
    UNIQUE (channel_id, event_key)
);
CREATE INDEX notification_outbox_due ON notification_outbox (status, next_attempt_at);
