-- Login throttling shared by every process using the database. Keep in step with
-- ../sqlite/0007_login_throttle.sql, which says what the table is for.

CREATE TABLE login_throttle (
    key_hash        CHAR(64)    NOT NULL PRIMARY KEY,
    failures        BIGINT      NOT NULL,
    next_allowed_at DATETIME(6) NOT NULL,
    updated_at      DATETIME(6) NOT NULL,
    KEY login_throttle_updated (updated_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
