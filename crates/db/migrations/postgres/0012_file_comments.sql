-- Comments on a file, both ways: the firm's staff and the client's people who can see the file.
CREATE TABLE file_comments (
    id UUID PRIMARY KEY,
    firm_id UUID NOT NULL REFERENCES firms(id),
    file_id UUID NOT NULL REFERENCES files(id),
    author_user_id UUID NOT NULL REFERENCES users(id),
    author_side TEXT NOT NULL CHECK (author_side IN ('staff', 'client')),
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX file_comments_by_file ON file_comments (file_id, created_at);
