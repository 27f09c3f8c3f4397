-- Notifications hold what happened and to what, not words or page addresses: `subject_id` is
-- the thing it is about (conversation, task, form assignment, file, folder or shared item) and
-- `params` the event with the few values its sentence needs, as JSON. Rows written before keep
-- their sentence and address in `summary` and `href`, which new rows leave empty (NULL), and
-- are shown from those.
ALTER TABLE notifications ALTER COLUMN summary DROP NOT NULL;
ALTER TABLE notifications ALTER COLUMN href DROP NOT NULL;
ALTER TABLE notifications ADD COLUMN subject_id UUID;
ALTER TABLE notifications ADD COLUMN params TEXT;
