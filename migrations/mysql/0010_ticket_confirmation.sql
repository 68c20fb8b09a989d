-- The root cause an engineer confirmed when resolving a ticket, and what fixed it.
-- Keep in step with ../sqlite/0010_ticket_confirmation.sql, which says what the
-- columns are for.

ALTER TABLE tickets
    ADD COLUMN confirmed_root_cause VARCHAR(255) NULL,
    ADD COLUMN resolution           TEXT         NULL,
    ADD COLUMN confirmed_by         VARCHAR(254) NULL,
    ADD COLUMN confirmed_at         DATETIME(6)  NULL;
