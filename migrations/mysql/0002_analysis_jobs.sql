-- Durable analysis jobs: a worker claims an analysis with a lease (owner + expiry)
-- by compare-and-set; an expired lease (process killed) lets another worker take it.
-- Progress events, kept for late subscribers of the event stream.

ALTER TABLE analyses
    ADD COLUMN lease_owner VARCHAR(64) NULL,
    ADD COLUMN lease_expires_at DATETIME(6) NULL,
    ADD COLUMN attempts INT NOT NULL DEFAULT 0,
    ADD KEY analyses_claim (status, lease_expires_at);

CREATE TABLE analysis_events (
    analysis_id CHAR(36)    NOT NULL,
    seq         BIGINT      NOT NULL,
    stage       VARCHAR(32) NOT NULL,
    message     TEXT        NOT NULL,
    data        MEDIUMTEXT,
    at          DATETIME(6) NOT NULL,
    PRIMARY KEY (analysis_id, seq),
    CONSTRAINT analysis_events_analysis_fk FOREIGN KEY (analysis_id) REFERENCES analyses (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
