-- Failed sign-ins, by key ('account:<email>' or 'address:<ip>'), for throttling across servers.
CREATE TABLE login_failures (
    id UUID PRIMARY KEY,
    key TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (key, at);
