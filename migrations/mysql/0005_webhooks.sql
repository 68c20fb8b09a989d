-- Alert intake and hand-off. Keep in step with ../sqlite/0005_webhooks.sql, which
-- says what each table is for.

CREATE TABLE webhooks (
    id               CHAR(36)     NOT NULL PRIMARY KEY,
    name             VARCHAR(191) NOT NULL,
    kind             VARCHAR(16)  NOT NULL,
    token_hash       CHAR(64)     NOT NULL,
    options          TEXT         NOT NULL,
    enabled          BOOLEAN      NOT NULL DEFAULT TRUE,
    created_by       VARCHAR(254) NOT NULL,
    created_at       DATETIME(6)  NOT NULL,
    updated_at       DATETIME(6)  NOT NULL,
    last_received_at DATETIME(6),
    UNIQUE KEY webhooks_name (name),
    CONSTRAINT webhooks_kind CHECK (kind IN ('alertmanager', 'grafana'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE alert_dedup (
    webhook_id    CHAR(36)    NOT NULL,
    dedup_key     VARCHAR(96) NOT NULL,
    analysis_id   CHAR(36)    NOT NULL,
    first_seen_at DATETIME(6) NOT NULL,
    last_seen_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (webhook_id, dedup_key),
    CONSTRAINT alert_dedup_webhook_fk FOREIGN KEY (webhook_id) REFERENCES webhooks (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE alert_occurrences (
    id          CHAR(36)     NOT NULL PRIMARY KEY,
    webhook_id  CHAR(36)     NOT NULL,
    analysis_id CHAR(36),
    fingerprint VARCHAR(96)  NOT NULL,
    name        VARCHAR(512) NOT NULL,
    status      VARCHAR(16)  NOT NULL,
    outcome     VARCHAR(16)  NOT NULL,
    payload     MEDIUMTEXT   NOT NULL,
    received_at DATETIME(6)  NOT NULL,
    KEY alert_occurrences_analysis (analysis_id, id),
    KEY alert_occurrences_webhook (webhook_id, id),
    CONSTRAINT alert_occurrences_status CHECK (status IN ('firing', 'resolved'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

ALTER TABLE tickets ADD KEY tickets_analysis (analysis_id);

CREATE TABLE notification_channels (
    id            CHAR(36)     NOT NULL PRIMARY KEY,
    name          VARCHAR(191) NOT NULL,
    kind          VARCHAR(16)  NOT NULL,
    url_sealed    TEXT         NOT NULL,
    url_hint      VARCHAR(512) NOT NULL,
    secret_sealed TEXT,
    events        TEXT         NOT NULL,
    enabled       BOOLEAN      NOT NULL DEFAULT TRUE,
    created_at    DATETIME(6)  NOT NULL,
    updated_at    DATETIME(6)  NOT NULL,
    UNIQUE KEY notification_channels_name (name),
    CONSTRAINT notification_channels_kind CHECK (kind IN ('webhook', 'slack', 'feishu', 'dingtalk', 'wecom'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE notification_outbox (
    id              CHAR(36)     NOT NULL PRIMARY KEY,
    channel_id      CHAR(36)     NOT NULL,
    event_key       VARCHAR(128) NOT NULL,
    notice          MEDIUMTEXT   NOT NULL,
    status          VARCHAR(16)  NOT NULL,
    attempts        INT          NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6)  NOT NULL,
    locked_until    DATETIME(6),
    last_error      TEXT,
    created_at      DATETIME(6)  NOT NULL,
    delivered_at    DATETIME(6),
    UNIQUE KEY notification_outbox_event (channel_id, event_key),
    KEY notification_outbox_due (status, next_attempt_at),
    CONSTRAINT notification_outbox_channel_fk FOREIGN KEY (channel_id) REFERENCES notification_channels (id) ON DELETE CASCADE,
    CONSTRAINT notification_outbox_status CHECK (status IN ('pending', 'sending', 'delivered', 'failed'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
