-- Secure messaging: conversations of a client (optionally about one matter), their members,
-- messages numbered in order within a conversation, and each advance of a person's read mark
-- (which gives read receipts without a row per message and reader).
CREATE TABLE conversations (
    id BLOB PRIMARY KEY,
    firm_id BLOB NOT NULL REFERENCES firms(id),
    client_id BLOB NOT NULL REFERENCES clients(id),
    matter_id BLOB REFERENCES matters(id),
    title TEXT NOT NULL,
    started_by BLOB NOT NULL REFERENCES users(id),
    last_seq INTEGER NOT NULL DEFAULT 0,
    last_message_at TEXT NOT NULL,
    resolved_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX conversations_by_firm ON conversations (firm_id, last_message_at, id);
CREATE INDEX conversations_by_client ON conversations (firm_id, client_id, last_message_at, id);

-- Who takes part. Client users see a conversation only as members; staff see all of their
-- firm's and become members when they write or read.
CREATE TABLE conversation_members (
    conversation_id BLOB NOT NULL REFERENCES conversations(id),
    user_id BLOB NOT NULL REFERENCES users(id),
    firm_id BLOB NOT NULL REFERENCES firms(id),
    side TEXT NOT NULL CHECK (side IN ('staff', 'client')),
    read_seq INTEGER NOT NULL DEFAULT 0,
    added_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_by_user ON conversation_members (user_id, firm_id, conversation_id);

CREATE TABLE messages (
    id BLOB PRIMARY KEY,
    firm_id BLOB NOT NULL REFERENCES firms(id),
    conversation_id BLOB NOT NULL REFERENCES conversations(id),
    seq INTEGER NOT NULL,
    author_user_id BLOB NOT NULL REFERENCES users(id),
    author_side TEXT NOT NULL CHECK (author_side IN ('staff', 'client')),
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    edited_at TEXT,
    deleted_at TEXT,
    deleted_by BLOB REFERENCES users(id),
    UNIQUE (conversation_id, seq)
);
CREATE INDEX messages_by_firm ON messages (firm_id, created_at);

CREATE TABLE message_reads (
    conversation_id BLOB NOT NULL REFERENCES conversations(id),
    user_id BLOB NOT NULL REFERENCES users(id),
    up_to_seq INTEGER NOT NULL,
    read_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, up_to_seq, user_id)
);

CREATE TABLE message_attachments (
    message_id BLOB NOT NULL REFERENCES messages(id),
    file_id BLOB NOT NULL REFERENCES files(id),
    PRIMARY KEY (message_id, file_id)
);
CREATE INDEX message_attachments_by_file ON message_attachments (file_id);

-- What arrived for a person, from any feature: the in-app list, and the source of batched
-- notification emails (which never carry the content).
CREATE TABLE notifications (
    id BLOB PRIMARY KEY,
    firm_id BLOB NOT NULL REFERENCES firms(id),
    user_id BLOB NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    href TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at TEXT,
    emailed_at TEXT
);
CREATE INDEX notifications_by_user ON notifications (user_id, firm_id, created_at);
CREATE INDEX notifications_unread ON notifications (user_id, firm_id) WHERE read_at IS NULL;
CREATE INDEX notifications_to_mail ON notifications (created_at) WHERE emailed_at IS NULL AND read_at IS NULL;

-- Change signals for live pages, read by every server process (PostgreSQL uses NOTIFY).
CREATE TABLE signals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic BLOB NOT NULL,
    created_at TEXT NOT NULL
);

ALTER TABLE firms ADD COLUMN client_read_receipts BOOLEAN NOT NULL DEFAULT FALSE;
