-- Virus scanning: with a scanner configured, a new file is 'pending' until the scanner has
-- seen it, and is served only once 'clean'; an 'infected' one is kept but never served, and
-- its verdict (what the scanner found) is shown to both sides.
ALTER TABLE files ADD COLUMN scan_status TEXT NOT NULL DEFAULT 'clean';
ALTER TABLE files ADD COLUMN scan_verdict TEXT NOT NULL DEFAULT '';
ALTER TABLE files ADD COLUMN scanned_at TIMESTAMPTZ;
-- Encryption at rest: the file's own key, wrapped by its firm's key (empty when the bytes are
-- stored as they are).
ALTER TABLE files ADD COLUMN key_wrapped TEXT NOT NULL DEFAULT '';
