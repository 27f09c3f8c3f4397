-- Passkeys (WebAuthn credentials) of a person, and the short-lived state of a ceremony between
-- its two requests, so that any server can finish what another began.
CREATE TABLE passkeys (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users(id),
    credential_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    credential TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);

CREATE TABLE webauthn_ceremonies (
    key_hash BLOB PRIMARY KEY,
    user_id BLOB REFERENCES users(id),
    purpose TEXT NOT NULL CHECK (purpose IN ('register', 'sign_in', 'second_step', 'invitation')),
    state TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
