-- Revoking access tokens. Keep in step with ../sqlite/0006_token_version.sql, which
-- says what the column is for.

ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0;
