-- Folders of a client's files, nested; a name is unique among its siblings whatever its case.
-- A client sees the folders its people made and those on the way to a file it may see.
CREATE TABLE folders (
    id BLOB PRIMARY KEY,
    firm_id BLOB NOT NULL REFERENCES firms(id),
    client_id BLOB NOT NULL REFERENCES clients(id),
    parent_id BLOB REFERENCES folders(id),
    name TEXT NOT NULL,
    created_by BLOB NOT NULL REFERENCES users(id),
    created_side TEXT NOT NULL CHECK (created_side IN ('staff', 'client')),
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX folders_unique_name ON folders (client_id, COALESCE(parent_id, client_id), lower(name));
CREATE INDEX folders_by_client ON folders (firm_id, client_id);

-- Where a file is (no folder: the client's top level), and its versions: uploading a file with
-- the name of a current one in the same folder supersedes it; every version keeps the id of
-- the first (lineage) and its number, and stays downloadable.
ALTER TABLE files ADD COLUMN folder_id BLOB REFERENCES folders(id);
ALTER TABLE files ADD COLUMN lineage_id BLOB;
ALTER TABLE files ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE files ADD COLUMN superseded_at TEXT;

-- Files kept before versions existed may share a name: the newest stays current, the older
-- ones become its earlier versions.
UPDATE files SET
    lineage_id = (SELECT o.id FROM files o WHERE o.client_id = files.client_id AND lower(o.name) = lower(files.name)
                  ORDER BY o.created_at, o.id LIMIT 1),
    version = 1 + (SELECT COUNT(*) FROM files o WHERE o.client_id = files.client_id AND lower(o.name) = lower(files.name)
                   AND (o.created_at < files.created_at OR (o.created_at = files.created_at AND o.id < files.id))),
    superseded_at = (SELECT MIN(n.created_at) FROM files n WHERE n.client_id = files.client_id AND lower(n.name) = lower(files.name)
                     AND (n.created_at > files.created_at OR (n.created_at = files.created_at AND n.id > files.id)));

CREATE UNIQUE INDEX files_current_name ON files (client_id, COALESCE(folder_id, client_id), lower(name))
    WHERE superseded_at IS NULL;
CREATE INDEX files_by_lineage ON files (lineage_id, version);
CREATE INDEX files_by_folder ON files (firm_id, client_id, folder_id);
