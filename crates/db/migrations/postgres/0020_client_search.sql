-- Client search finds any part of a name through a trigram index (pg_trgm), instead of
-- reading every name of the firm. pg_trgm ships with PostgreSQL and is a trusted extension
-- (a database owner may install it); where it cannot be installed, search still works and
-- reads the firm's names as before.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): client search reads every name of the firm', SQLERRM;
END $$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX clients_name_trigrams ON clients USING gin (lower(name) gin_trgm_ops);
    END IF;
END $$;
