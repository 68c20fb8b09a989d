-- The analysis backlog's lock. Keep in step with ../mysql/0008_intake_lock.sql.
--
-- intake_lock: one row. A webhook intake transaction that may start analyses
--   updates it first, so such transactions run one at a time across every process
--   sharing the database, and the pending analyses they count cannot change under
--   them: the backlog limit (ONCALL_WEBHOOK_BACKLOG) holds exactly.
-- locked_at: when it was last taken (for people reading the table).

CREATE TABLE intake_lock (
    id        INTEGER NOT NULL PRIMARY KEY,
    locked_at TEXT
);

INSERT INTO intake_lock (id, locked_at) VALUES (1, NULL);
