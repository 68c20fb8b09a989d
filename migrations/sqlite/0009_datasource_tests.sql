-- The last connectivity test of each data source. Keep in step with
-- ../mysql/0009_datasource_tests.sql.
--
-- datasource_tests: one row per data source that was tested, replaced by each test;
--   result is the ConnectionTest document (ok, latency_ms, version, message, error)
--   and tested_at when it ran, so a page shows the last result after a reload.

CREATE TABLE datasource_tests (
    datasource_id TEXT NOT NULL PRIMARY KEY REFERENCES datasources (id) ON DELETE CASCADE,
    result        TEXT NOT NULL,
    tested_at     TEXT NOT NULL
);
