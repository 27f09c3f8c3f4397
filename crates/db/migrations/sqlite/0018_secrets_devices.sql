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
