-- Resumable uploads (tus 1.0): the bytes arrive in parts, each kept as its own object under
-- uploads/{id}/ and recorded only once whole; when every byte has arrived the parts are joined
-- into the file, whose id is the upload's. Nothing of an upload is listed or served before
-- that (a folder deleted meanwhile leaves the file at the top). Unfinished uploads expire; a sweep removes them and every object under their prefix.
CREATE TABLE uploads (
    id BLOB PRIMARY KEY,
    firm_id BLOB NOT NULL REFERENCES firms(id),
    client_id BLOB NOT NULL REFERENCES clients(id),
    folder_id BLOB,
    user_id BLOB NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    length INTEGER NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    -- Set while one request joins the parts, so another waits instead of joining twice.
    joining_since TEXT,
    -- Set when the file is recorded.
    file_id BLOB
);
CREATE INDEX uploads_by_user ON uploads (user_id, firm_id);
CREATE INDEX uploads_by_expiry ON uploads (expires_at);

CREATE TABLE upload_parts (
    upload_id BLOB NOT NULL REFERENCES uploads(id),
    start INTEGER NOT NULL,
    size INTEGER NOT NULL,
    storage_key TEXT NOT NULL,
    key_wrapped TEXT NOT NULL,
    PRIMARY KEY (upload_id, start)
);
