-- A firm may let its clients move the files it shared with them (by default a client moves
-- only what its own people uploaded).
ALTER TABLE firms ADD COLUMN clients_move_shared_files BOOLEAN NOT NULL DEFAULT FALSE;
