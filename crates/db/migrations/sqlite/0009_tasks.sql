-- Tasks the firm gives a client ("please do this"): ticked off by the client, who may undo it.
CREATE TABLE tasks (
    id BLOB PRIMARY KEY,
    firm_id BLOB NOT NULL REFERENCES firms(id),
    client_id BLOB NOT NULL REFERENCES clients(id),
    matter_id BLOB REFERENCES matters(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    due_on DATE,
    created_by BLOB NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    completed_at TEXT,
    completed_by BLOB REFERENCES users(id),
    -- When the client was reminded that it is due (once per task).
    reminded_at TEXT
);
CREATE INDEX tasks_by_client ON tasks (firm_id, client_id, completed_at, due_on);
