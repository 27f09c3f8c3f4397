-- Objects in storage that no row needs, or may not need: each is removed once remove_after
-- has passed, unless a row then names it. Removals wait here, rather than happening at once,
-- so that a backup copying the objects of an earlier snapshot still finds them; an object is
-- entered before its bytes are stored, and released by the row that records it, so a write
-- whose row never commits (a crash, a refused insert) is removed too.
CREATE TABLE loose_objects (
    storage_key TEXT PRIMARY KEY,
    remove_after TEXT NOT NULL
);
CREATE INDEX loose_objects_by_time ON loose_objects (remove_after);
