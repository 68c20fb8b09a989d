-- Durable analysis jobs: a worker claims an analysis with a lease (owner + expiry)
-- by compare-and-set; an expired lease (process killed) lets another worker take it.
-- Progress events, kept for late subscribers of the event stream.

ALTER TABLE analyses ADD COLUMN lease_owner TEXT;
ALTER TABLE analyses ADD COLUMN lease_expires_at TEXT;
ALTER TABLE analyses ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX analyses_claim ON analyses (status, lease_expires_at);

CREATE TABLE analysis_events (
    analysis_id TEXT    NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    stage       TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    data        TEXT,
    at          TEXT    NOT NULL,
    PRIMARY KEY (analysis_id, seq)
);
