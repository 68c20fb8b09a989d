-- Revoking access tokens. Keep in step with ../mysql/0006_token_version.sql.
--
-- token_version: bumped by every password change or reset. An access token carries
--   the value it was issued with and is refused once the account's has moved on, so
--   changing a password logs the account out everywhere else.

ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
