-- Two-factor sign-in with an authenticator app (TOTP), and single-use recovery codes.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled BOOLEAN NOT NULL DEFAULT FALSE;
-- The last time step accepted: a code is good once, even when two requests race.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
-- A session that has passed the password but not yet the second factor.
ALTER TABLE sessions ADD COLUMN mfa_pending BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE recovery_codes (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users(id),
    code_hash BLOB NOT NULL,
    used_at TEXT
);
CREATE INDEX recovery_codes_by_user ON recovery_codes (user_id);
