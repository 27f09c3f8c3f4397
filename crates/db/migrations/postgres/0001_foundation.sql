-- Tenancy, accounts, sessions, audit and jobs. Ids are UUIDs, times UTC.

CREATE TABLE firms (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    brand_colour TEXT NOT NULL DEFAULT '#1f5fa8',
    idle_timeout_secs BIGINT NOT NULL DEFAULT 1800,
    absolute_timeout_secs BIGINT NOT NULL DEFAULT 43200,
    created_at TIMESTAMPTZ NOT NULL
);

-- One sign-in identity; a person may be staff of a firm and a portal user of several clients.
CREATE TABLE users (
    id UUID PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE staff_members (
    id UUID PRIMARY KEY,
    firm_id UUID NOT NULL REFERENCES firms(id),
    user_id UUID NOT NULL REFERENCES users(id),
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (firm_id, user_id)
);

CREATE INDEX staff_members_by_user ON staff_members (user_id);

CREATE TABLE clients (
    id UUID PRIMARY KEY,
    firm_id UUID NOT NULL REFERENCES firms(id),
    kind TEXT NOT NULL CHECK (kind IN ('person', 'organisation')),
    name TEXT NOT NULL,
    email TEXT,
    portal_open BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX clients_by_firm_name ON clients (firm_id, name, id);
CREATE INDEX clients_by_firm_created ON clients (firm_id, created_at, id);

CREATE TABLE client_users (
    id UUID PRIMARY KEY,
    firm_id UUID NOT NULL REFERENCES firms(id),
    client_id UUID NOT NULL REFERENCES clients(id),
    user_id UUID NOT NULL REFERENCES users(id),
    is_client_admin BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (client_id, user_id)
);
CREATE INDEX client_users_by_user ON client_users (user_id);

CREATE TABLE matters (
    id UUID PRIMARY KEY,
    firm_id UUID NOT NULL REFERENCES firms(id),
    client_id UUID NOT NULL REFERENCES clients(id),
    title TEXT NOT NULL,
    reference TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    portal_open BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX matters_by_client ON matters (firm_id, client_id);

-- An item made visible to a client, or to one matter of a client.
CREATE TABLE shares (
    id UUID PRIMARY KEY,
    firm_id UUID NOT NULL REFERENCES firms(id),
    item_type TEXT NOT NULL,
    item_id UUID NOT NULL,
    client_id UUID NOT NULL REFERENCES clients(id),
    matter_id UUID REFERENCES matters(id),
    shared_by UUID NOT NULL REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX shares_by_item ON shares (item_type, item_id);
CREATE INDEX shares_by_client ON shares (firm_id, client_id, item_type);

-- Server-side sessions: only the SHA-256 of the cookie token is stored.
CREATE TABLE sessions (
    id UUID NOT NULL UNIQUE,
    token_hash BYTEA PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users(id),
    context TEXT NOT NULL CHECK (context IN ('staff', 'client')),
    membership_id UUID NOT NULL,
    csrf_token TEXT NOT NULL,
    auth_method TEXT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    idle_expires_at TIMESTAMPTZ NOT NULL,
    absolute_expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Single-use tokens mailed or printed to people (set password now; invitations and resets later).
CREATE TABLE one_time_tokens (
    token_hash BYTEA PRIMARY KEY,
    purpose TEXT NOT NULL,
    user_id UUID NOT NULL REFERENCES users(id),
    firm_id UUID REFERENCES firms(id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);

CREATE TABLE api_tokens (
    id UUID PRIMARY KEY,
    token_hash BYTEA NOT NULL UNIQUE,
    staff_id UUID NOT NULL REFERENCES staff_members(id),
    name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    firm_id UUID,
    actor_user_id UUID,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL DEFAULT '',
    object_id TEXT NOT NULL DEFAULT '',
    request_id TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_by_firm ON audit_events (firm_id, seq);

CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'audit events are append-only'; END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

-- The head of the hash chain: updating it first serialises appenders on both databases.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Side effects (mail, later scans and refreshes) written in the same transaction as the change.
CREATE TABLE jobs (
    id UUID PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_at);
