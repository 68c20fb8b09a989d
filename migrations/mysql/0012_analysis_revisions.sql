-- Analysis revisions. Keep in step with ../sqlite/0012_analysis_revisions.sql,
-- which says what the columns are for.

ALTER TABLE analyses
    ADD COLUMN revision   INT         NOT NULL DEFAULT 1,
    ADD COLUMN refresh_at DATETIME(6) NULL,
    ADD KEY analyses_refresh (refresh_at);

CREATE TABLE analysis_revisions (
    analysis_id  CHAR(36)    NOT NULL,
    revision     INT         NOT NULL,
    time_window  MEDIUMTEXT  NOT NULL,
    sources      MEDIUMTEXT  NOT NULL,
    evidence     LONGTEXT    NOT NULL,
    result       MEDIUMTEXT,
    error        TEXT,
    analyzer     VARCHAR(255),
    `usage`      MEDIUMTEXT,
    started_at   DATETIME(6),
    completed_at DATETIME(6),
    PRIMARY KEY (analysis_id, revision),
    CONSTRAINT analysis_revisions_analysis_fk FOREIGN KEY (analysis_id) REFERENCES analyses (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
