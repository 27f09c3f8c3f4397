-- Notifications hold what happened and to what, not words or page addresses: `subject_id` is
-- the thing it is about (conversation, task, form assignment, file, folder or shared item) and
-- `params` the event with the few values its sentence needs, as JSON. Rows written before keep
-- their sentence and address in `summary` and `href`, which new rows leave empty (NULL), and
-- are shown from those. SQLite cannot drop NOT NULL in place: the table is rebuilt.
CREATE TABLE notifications_new (
    id BLOB PRIMARY KEY,
    firm_id BLOB NOT NULL REFERENCES firms(id),
    user_id BLOB NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    summary TEXT,
    href TEXT,
    created_at TEXT NOT NULL,
    read_at TEXT,
    emailed_at TEXT,
    subject_id BLOB,
    params TEXT
);
INSERT INTO notifications_new (id, firm_id, user_id, kind, summary, href, created_at, read_at, emailed_at)
    SELECT id, firm_id, user_id, kind, summary, href, created_at, read_at, emailed_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_by_user ON notifications (user_id, firm_id, created_at);
CREATE INDEX notifications_unread ON notifications (user_id, firm_id) WHERE read_at IS NULL;
CREATE INDEX notifications_to_mail ON notifications (created_at) WHERE emailed_at IS NULL AND read_at IS NULL;
