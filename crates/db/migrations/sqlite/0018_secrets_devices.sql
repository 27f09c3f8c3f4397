-- A queued job's secret (the token in a sign-in link) is kept apart from its payload and only
-- while the job is pending: once it is done or has given up, the database forgets it.
CREATE TABLE job_secrets (
    job_id BLOB PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    secret TEXT NOT NULL
);
CREATE TRIGGER job_secrets_forget AFTER UPDATE OF status ON jobs
WHEN NEW.status <> 'pending'
BEGIN
    DELETE FROM job_secrets WHERE job_id = NEW.id;
END;

-- The browsers a person trusts for access links: a device cookie opens a link bound to it
-- only while its row is here. Ending a person's sessions removes them; they expire after 90 days unused.
CREATE TABLE devices (
    id BLOB PRIMARY KEY,
    token_hash BLOB NOT NULL,
    user_id BLOB NOT NULL REFERENCES users(id),
    firm_id BLOB NOT NULL REFERENCES firms(id),
    user_agent TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    last_used_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    UNIQUE (user_id, firm_id, token_hash)
);
-- Links already bound keep working on their device, for the device's usual lifetime.
INSERT INTO devices (id, token_hash, user_id, firm_id, created_at, last_used_at, expires_at)
SELECT randomblob(16), device_hash, user_id, firm_id, MIN(COALESCE(first_used_at, created_at)),
       MAX(COALESCE(first_used_at, created_at)), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+90 days')
FROM access_links WHERE device_hash IS NOT NULL AND revoked_at IS NULL
GROUP BY device_hash, user_id, firm_id;
