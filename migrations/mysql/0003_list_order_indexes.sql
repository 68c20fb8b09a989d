-- Lists are ordered by (created_at, key) newest first; index exactly that order.
-- (InnoDB appends the primary key to secondary indexes anyway; this keeps the two
-- dialects' indexes alike.)
ALTER TABLE tickets
    DROP INDEX tickets_created_at,
    ADD INDEX tickets_created_at (created_at, no),
    DROP INDEX tickets_status,
    ADD INDEX tickets_status (status, created_at, no);
ALTER TABLE analyses
    DROP INDEX analyses_created_at,
    ADD INDEX analyses_created_at (created_at, id),
    DROP INDEX analyses_status,
    ADD INDEX analyses_status (status, created_at, id);
