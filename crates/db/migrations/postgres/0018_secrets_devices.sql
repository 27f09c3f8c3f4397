-- A queued job's secret (the token in a sign-in link) is kept apart from its payload and only
-- while the job is pending: once it is done or has given up, the database forgets it.
CREATE TABLE job_secrets (
    job_id UUID PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    secret TEXT NOT NULL
);
CREATE FUNCTION job_secrets_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM job_secrets WHERE job_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER job_secrets_forget AFTER UPDATE OF status ON jobs
FOR EACH ROW WHEN (NEW.status <> 'pending') EXECUTE FUNCTION job_secrets_forget();

-- The browsers a person trusts for access links: a device cookie opens a link bound to it
-- only while its row is here. Ending a person's sessions removes them; they expire after 90 days unused.
CREATE TABLE devices (
    id UUID PRIMARY KEY,
    token_hash BYTEA NOT NULL,
    user_id UUID NOT NULL REFERENCES users(id),
    firm_id UUID NOT NULL REFERENCES firms(id),
    user_agent TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, firm_id, token_hash)
);
-- Links already bound keep working on their device, for the device's usual lifetime.
INSERT INTO devices (id, token_hash, user_id, firm_id, created_at, last_used_at, expires_at)
SELECT gen_random_uuid(), device_hash, user_id, firm_id, MIN(COALESCE(first_used_at, created_at)),
       MAX(COALESCE(first_used_at, created_at)), now() + INTERVAL '90 days'
FROM access_links WHERE device_hash IS NOT NULL AND revoked_at IS NULL
GROUP BY device_hash, user_id, firm_id;
