-- Tasks the firm gives a client ("please do this"): ticked off by the client, who may undo it.
CREATE TABLE tasks (
    id UUID PRIMARY KEY,
    firm_id UUID NOT NULL REFERENCES firms(id),
    client_id UUID NOT NULL REFERENCES clients(id),
    matter_id UUID REFERENCES matters(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    due_on DATE,
    created_by UUID NOT NULL REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ,
    completed_by UUID REFERENCES users(id),
    -- When the client was reminded that it is due (once per task).
    reminded_at TIMESTAMPTZ
);
CREATE INDEX tasks_by_client ON tasks (firm_id, client_id, completed_at, due_on);
