-- The analysis backlog's lock. Keep in step with ../sqlite/0008_intake_lock.sql,
-- which says what it is for.

CREATE TABLE intake_lock (
    id        INT         NOT NULL PRIMARY KEY,
    locked_at DATETIME(6)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO intake_lock (id, locked_at) VALUES (1, NULL);
