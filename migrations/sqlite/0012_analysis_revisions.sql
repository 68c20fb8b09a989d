-- Analysis revisions. Keep in step with ../mysql/0012_analysis_revisions.sql.
--
-- An analysis that a webhook started while its incident window was still open is
-- run again once the window has filled (refresh_at: when; NULL: never). The run
-- before is kept in analysis_revisions, never overwritten, so the user can compare:
--   analyses.revision           1 for the first run, +1 for each refresh
--   analyses.refresh_at         when a worker should run it again (completed only)
--   analysis_revisions          earlier runs: what the analyses row held when the
--                               refresh began (window, per-source reports, evidence,
--                               result, notes, analyzer, usage and run times)

ALTER TABLE analyses ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
ALTER TABLE analyses ADD COLUMN refresh_at TEXT;
CREATE INDEX analyses_refresh ON analyses (refresh_at);

CREATE TABLE analysis_revisions (
    analysis_id  TEXT    NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
    revision     INTEGER NOT NULL,
    time_window  TEXT    NOT NULL,
    sources      TEXT    NOT NULL,
    evidence     TEXT    NOT NULL,
    result       TEXT,
    error        TEXT,
    analyzer     TEXT,
    `usage`      TEXT,
    started_at   TEXT,
    completed_at TEXT,
    PRIMARY KEY (analysis_id, revision)
);
