-- Login throttling shared by every process using the database. Keep in step with
-- ../mysql/0007_login_throttle.sql.
--
-- One row per (account, client address), keyed by a SHA-256 of both so the table
-- holds no email or address in clear. Every attempt is charged before the password
-- is checked (compare-and-set on `failures`), so parallel guesses cannot all pass
-- the check; a successful login deletes the row. Past a few free attempts each
-- further one must wait an exponentially growing delay (`next_allowed_at`).

CREATE TABLE login_throttle (
    key_hash        TEXT    NOT NULL PRIMARY KEY,
    failures        INTEGER NOT NULL,
    next_allowed_at TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);

CREATE INDEX login_throttle_updated ON login_throttle (updated_at);
