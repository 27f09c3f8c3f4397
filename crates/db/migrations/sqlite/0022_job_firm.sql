-- A job names the firm it works for, when it works for one, so that a firm's administrators
-- see (and may retry) their own jobs that gave up, and never another firm's.
ALTER TABLE jobs ADD COLUMN firm_id BLOB REFERENCES firms(id);
CREATE INDEX jobs_failed_by_firm ON jobs (firm_id, updated_at) WHERE status = 'failed';
