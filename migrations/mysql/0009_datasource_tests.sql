-- The last connectivity test of each data source. Keep in step with
-- ../sqlite/0009_datasource_tests.sql, which says what the table is for.

CREATE TABLE datasource_tests (
    datasource_id CHAR(36)    NOT NULL PRIMARY KEY,
    result        MEDIUMTEXT  NOT NULL,
    tested_at     DATETIME(6) NOT NULL,
    CONSTRAINT datasource_tests_datasource_fk FOREIGN KEY (datasource_id) REFERENCES datasources (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
