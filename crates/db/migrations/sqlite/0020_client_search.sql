-- Client search finds any part of a name through a trigram index, instead of reading every
-- name of the firm. The index has its own rows, keyed by the client's id (a table without an
-- INTEGER PRIMARY KEY may have its rowids renumbered by VACUUM, so they cannot be the link).
CREATE VIRTUAL TABLE clients_search USING fts5(name, client_id UNINDEXED, tokenize = 'trigram');
INSERT INTO clients_search (name, client_id) SELECT name, id FROM clients;

CREATE TRIGGER clients_search_ins AFTER INSERT ON clients BEGIN
    INSERT INTO clients_search (name, client_id) VALUES (NEW.name, NEW.id);
END;
CREATE TRIGGER clients_search_upd AFTER UPDATE OF name ON clients BEGIN
    DELETE FROM clients_search WHERE client_id = OLD.id;
    INSERT INTO clients_search (name, client_id) VALUES (NEW.name, NEW.id);
END;
CREATE TRIGGER clients_search_del AFTER DELETE ON clients BEGIN
    DELETE FROM clients_search WHERE client_id = OLD.id;
END;
