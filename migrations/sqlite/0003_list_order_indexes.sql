-- Lists are ordered by (created_at, key) newest first; index exactly that order so a
-- page is read from the index instead of sorting every row.
DROP INDEX tickets_created_at;
CREATE INDEX tickets_created_at ON tickets (created_at, no);
DROP INDEX tickets_status;
CREATE INDEX tickets_status ON tickets (status, created_at, no);
DROP INDEX analyses_created_at;
CREATE INDEX analyses_created_at ON analyses (created_at, id);
DROP INDEX analyses_status;
CREATE INDEX analyses_status ON analyses (status, created_at, id);
