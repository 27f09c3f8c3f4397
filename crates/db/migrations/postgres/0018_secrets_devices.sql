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
