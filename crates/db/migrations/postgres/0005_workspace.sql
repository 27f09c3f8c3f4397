-- The firm workspace: quick links and the client access log switch on firms, comments on
-- matters, clients' read marks on shared items, staff views of client items, and profiles.
ALTER TABLE firms ADD COLUMN access_log_for_clients BOOLEAN NOT NULL DEFAULT TRUE;

-- A client's matters newest first, open ones apart: the dashboard card reads five and counts.
DROP INDEX matters_by_client;
CREATE INDEX matters_by_client ON matters (firm_id, client_id, portal_open, created_at, id);

CREATE TABLE quick_links (
    id UUID PRIMARY KEY,
    firm_id UUID NOT NULL REFERENCES firms(id),
    label TEXT NOT NULL,
    url TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX quick_links_by_firm ON quick_links (firm_id, created_at);

CREATE TABLE matter_comments (
    id UUID PRIMARY KEY,
    firm_id UUID NOT NULL REFERENCES firms(id),
    matter_id UUID NOT NULL REFERENCES matters(id),
    client_id UUID NOT NULL REFERENCES clients(id),
    author_user_id UUID NOT NULL REFERENCES users(id),
    author_side TEXT NOT NULL CHECK (author_side IN ('staff', 'client')),
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX matter_comments_by_matter ON matter_comments (matter_id, created_at, id);
CREATE INDEX matter_comments_by_client ON matter_comments (firm_id, client_id, author_side, created_at, id);
CREATE INDEX matter_comments_by_side ON matter_comments (firm_id, author_side, created_at, id);

-- The first time someone of a client marks a shared item read; staff see it as Complete.
CREATE TABLE item_reads (
    firm_id UUID NOT NULL REFERENCES firms(id),
    item_type TEXT NOT NULL,
    item_id UUID NOT NULL,
    client_id UUID NOT NULL REFERENCES clients(id),
    user_id UUID NOT NULL REFERENCES users(id),
    read_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (item_type, item_id, client_id)
);

-- When staff opened something of a client: what the client's access log shows.
CREATE TABLE access_log (
    id UUID PRIMARY KEY,
    firm_id UUID NOT NULL REFERENCES firms(id),
    client_id UUID NOT NULL REFERENCES clients(id),
    staff_user_id UUID NOT NULL REFERENCES users(id),
    item_type TEXT NOT NULL,
    item_id UUID NOT NULL,
    label TEXT NOT NULL,
    opened_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX access_log_by_client ON access_log (firm_id, client_id, opened_at);

ALTER TABLE users ADD COLUMN phone TEXT NOT NULL DEFAULT '';
-- An IANA time zone name; empty for UTC.
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN notify TEXT NOT NULL DEFAULT 'immediately'
    CHECK (notify IN ('immediately', 'daily', 'off'));

-- Small images, re-encoded as PNG on upload: a firm's logo (owner = the firm) or a person's
-- picture (owner = the user). The owner's *_version changes with each upload, for caching.
CREATE TABLE pictures (
    owner_id UUID PRIMARY KEY,
    png BYTEA NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
ALTER TABLE firms ADD COLUMN logo_version BIGINT;
ALTER TABLE users ADD COLUMN picture_version BIGINT;

-- The firm's terms for its clients; every change makes a new version that clients accept
-- (version 0: no terms). Each acceptance keeps the version, the time and the address.
ALTER TABLE firms ADD COLUMN terms_text TEXT NOT NULL DEFAULT '';
ALTER TABLE firms ADD COLUMN terms_version BIGINT NOT NULL DEFAULT 0;
CREATE TABLE terms_acceptances (
    user_id UUID NOT NULL REFERENCES users(id),
    firm_id UUID NOT NULL REFERENCES firms(id),
    version BIGINT NOT NULL,
    accepted_at TIMESTAMPTZ NOT NULL,
    ip TEXT NOT NULL,
    PRIMARY KEY (user_id, firm_id, version)
);

-- Staff can revoke an invitation: its links stop working and are never renewed.
ALTER TABLE one_time_tokens ADD COLUMN revoked_at TIMESTAMPTZ;

-- Access links: a unique link mailed to a portal user that signs them in to one page of the
-- portal. The first browser that uses it becomes its trusted device (the hash of a device
-- cookie); any other is declined and may ask for a new link to the original address.
ALTER TABLE firms ADD COLUMN link_lifetime_days BIGINT NOT NULL DEFAULT 30;
CREATE TABLE access_links (
    token_hash BYTEA PRIMARY KEY,
    firm_id UUID NOT NULL REFERENCES firms(id),
    client_user_id UUID NOT NULL REFERENCES client_users(id),
    user_id UUID NOT NULL REFERENCES users(id),
    target TEXT NOT NULL,
    label TEXT NOT NULL,
    device_hash BYTEA,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    first_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX access_links_by_user ON access_links (user_id, firm_id);

-- An optional registration key staff give an invitee out of band (by phone, in person); the
-- invitee types it when choosing a password. Only its hash is kept, until it is used.
ALTER TABLE client_users ADD COLUMN registration_key_hash BYTEA;

-- Insurance details, for practices that ask for them: kept per client membership, since
-- they belong to the person's dealings with this practice.
ALTER TABLE firms ADD COLUMN ask_insurance BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE client_users ADD COLUMN insurance_provider TEXT NOT NULL DEFAULT '';
ALTER TABLE client_users ADD COLUMN insurance_member_id TEXT NOT NULL DEFAULT '';
ALTER TABLE client_users ADD COLUMN insurance_group TEXT NOT NULL DEFAULT '';
