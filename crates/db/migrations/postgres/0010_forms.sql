-- Forms and questionnaires. A template's questions live in numbered versions that never
-- change once written; a client's form keeps the version it was sent with.
CREATE TABLE form_templates (
    id UUID PRIMARY KEY,
    firm_id UUID NOT NULL REFERENCES firms(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL,
    created_by UUID NOT NULL REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX form_templates_by_firm ON form_templates (firm_id, title);
CREATE TABLE form_versions (
    template_id UUID NOT NULL REFERENCES form_templates(id),
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    created_by UUID NOT NULL REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (template_id, version)
);
-- A form sent to a client: its draft answers (JSON, each with the revision that last changed
-- it), the draft's revision, and whether it is submitted.
CREATE TABLE form_assignments (
    id UUID PRIMARY KEY,
    firm_id UUID NOT NULL REFERENCES firms(id),
    client_id UUID NOT NULL REFERENCES clients(id),
    matter_id UUID REFERENCES matters(id),
    template_id UUID NOT NULL REFERENCES form_templates(id),
    version BIGINT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    answers TEXT NOT NULL DEFAULT '{}',
    rev BIGINT NOT NULL DEFAULT 0,
    saved_at TIMESTAMPTZ,
    saved_by UUID REFERENCES users(id),
    review_comment TEXT NOT NULL DEFAULT '',
    sent_by UUID NOT NULL REFERENCES users(id),
    sent_at TIMESTAMPTZ NOT NULL,
    submitted_at TIMESTAMPTZ,
    submitted_by UUID REFERENCES users(id)
);
CREATE INDEX form_assignments_by_client ON form_assignments (firm_id, client_id, sent_at);
CREATE INDEX form_assignments_by_template ON form_assignments (template_id, submitted_at);
-- Every submission as it was sent, with the hash of its content; reopening keeps them.
CREATE TABLE form_submissions (
    id UUID PRIMARY KEY,
    assignment_id UUID NOT NULL REFERENCES form_assignments(id),
    firm_id UUID NOT NULL REFERENCES firms(id),
    seq BIGINT NOT NULL,
    answers TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    submitted_by UUID NOT NULL REFERENCES users(id),
    submitted_at TIMESTAMPTZ NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    UNIQUE (assignment_id, seq)
);
-- Electronic signatures: who signed which field of which submission, what they agreed to,
-- when, from where, and the hash of the content they signed.
CREATE TABLE form_signatures (
    submission_id UUID NOT NULL REFERENCES form_submissions(id),
    field_id TEXT NOT NULL,
    signer_id UUID NOT NULL REFERENCES users(id),
    typed_name TEXT NOT NULL,
    drawn BOOLEAN NOT NULL,
    consent TEXT NOT NULL,
    signed_at TIMESTAMPTZ NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL,
    PRIMARY KEY (submission_id, field_id)
);
-- A task may stand for filling in a form (submitting it ticks the task off), point at a
-- document to read, or ask for a file (the client's upload through it ticks it off).
ALTER TABLE tasks ADD COLUMN form_id UUID REFERENCES form_assignments(id);
ALTER TABLE tasks ADD COLUMN file_id UUID REFERENCES files(id);
ALTER TABLE tasks ADD COLUMN wants_upload BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tasks ADD COLUMN upload_id UUID REFERENCES files(id);
