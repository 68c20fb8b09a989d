-- The root cause an engineer confirmed when resolving a ticket, and what fixed it.
-- Keep in step with ../mysql/0010_ticket_confirmation.sql.
--
-- confirmed_root_cause: the component (service, pod or host name) the engineer
--   confirmed as the cause; NULL until someone confirms one. Compared with the
--   analysis' ranked suspects for the analyzer's accuracy on real incidents.
-- resolution: a short "what fixed it" ("raised the pool size", "rolled back v2.3").
-- confirmed_by / confirmed_at: who confirmed (email) and when (UTC), set whenever
--   either of the two fields above changes; NULL when both are NULL.
-- Reopening a ticket clears the four; the ticket's history keeps the old values.

ALTER TABLE tickets ADD COLUMN confirmed_root_cause TEXT;
ALTER TABLE tickets ADD COLUMN resolution TEXT;
ALTER TABLE tickets ADD COLUMN confirmed_by TEXT;
ALTER TABLE tickets ADD COLUMN confirmed_at TEXT;
