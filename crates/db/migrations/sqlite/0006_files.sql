-- Files exchanged with a client: bytes live in object storage under a generated key; this row
-- says whose they are, what they are called and what they hash to. A file becomes visible only
-- once its bytes are stored ('ready').
CREATE TABLE files (
    id BLOB PRIMARY KEY,
    firm_id BLOB NOT NULL REFERENCES firms(id),
    client_id BLOB NOT NULL REFERENCES clients(id),
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    uploaded_by BLOB NOT NULL REFERENCES users(id),
    uploaded_side TEXT NOT NULL CHECK (uploaded_side IN ('staff', 'client')),
    created_at TEXT NOT NULL
);
CREATE INDEX files_by_client ON files (firm_id, client_id, created_at, id);
