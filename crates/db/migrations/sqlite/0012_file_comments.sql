-- Comments on a file, both ways: the firm's staff and the client's people who can see the file.
CREATE TABLE file_comments (
    id BLOB PRIMARY KEY,
    firm_id BLOB NOT NULL REFERENCES firms(id),
    file_id BLOB NOT NULL REFERENCES files(id),
    author_user_id BLOB NOT NULL REFERENCES users(id),
    author_side TEXT NOT NULL CHECK (author_side IN ('staff', 'client')),
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX file_comments_by_file ON file_comments (file_id, created_at);
