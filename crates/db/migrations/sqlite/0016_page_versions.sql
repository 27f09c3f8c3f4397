-- Versions of what signed-in pages show, so that a server can keep a page's data and know
-- for certain, from the one query that checks the session, whether it is still current.
-- Every write to a client's records bumps that client's version, in the write's own
-- transaction, through the triggers below (so no write path can forget); every change to a
-- client bumps its firm's data version, a change to what the client list shows (a client
-- added or removed, a name, kind or portal opened or closed) its clients version, and the
-- firm's quick links and people's names its shared version. A page's data is kept under the versions read with its session and
-- is used only while they are unchanged.

ALTER TABLE clients ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

CREATE TABLE firm_versions (
    firm_id BLOB PRIMARY KEY REFERENCES firms(id),
    data_version INTEGER NOT NULL DEFAULT 0,
    shared_version INTEGER NOT NULL DEFAULT 0,
    clients_version INTEGER NOT NULL DEFAULT 0
);
INSERT INTO firm_versions (firm_id) SELECT id FROM firms;

CREATE TRIGGER firms_versions_row AFTER INSERT ON firms BEGIN
    INSERT INTO firm_versions (firm_id) VALUES (NEW.id);
END;

CREATE TRIGGER clients_bump_firm_ins AFTER INSERT ON clients BEGIN
    UPDATE firm_versions SET data_version = data_version + 1, clients_version = clients_version + 1
     WHERE firm_id = NEW.firm_id;
END;
CREATE TRIGGER clients_bump_firm_upd AFTER UPDATE ON clients BEGIN
    UPDATE firm_versions SET data_version = data_version + 1 WHERE firm_id IN (NEW.firm_id, OLD.firm_id);
END;
CREATE TRIGGER clients_bump_firm_del AFTER DELETE ON clients BEGIN
    UPDATE firm_versions SET data_version = data_version + 1, clients_version = clients_version + 1
     WHERE firm_id = OLD.firm_id;
END;
CREATE TRIGGER clients_bump_list AFTER UPDATE OF firm_id, name, kind, portal_open ON clients BEGIN
    UPDATE firm_versions SET clients_version = clients_version + 1 WHERE firm_id IN (NEW.firm_id, OLD.firm_id);
END;

CREATE TRIGGER quick_links_bump_ins AFTER INSERT ON quick_links BEGIN
    UPDATE firm_versions SET shared_version = shared_version + 1 WHERE firm_id = NEW.firm_id;
END;
CREATE TRIGGER quick_links_bump_upd AFTER UPDATE ON quick_links BEGIN
    UPDATE firm_versions SET shared_version = shared_version + 1 WHERE firm_id IN (NEW.firm_id, OLD.firm_id);
END;
CREATE TRIGGER quick_links_bump_del AFTER DELETE ON quick_links BEGIN
    UPDATE firm_versions SET shared_version = shared_version + 1 WHERE firm_id = OLD.firm_id;
END;

-- A person's name shows on the pages of every firm and client they belong to.
CREATE TRIGGER users_bump_name AFTER UPDATE OF name ON users BEGIN
    UPDATE firm_versions SET data_version = data_version + 1, shared_version = shared_version + 1
     WHERE firm_id IN (SELECT firm_id FROM staff_members WHERE user_id = NEW.id);
    UPDATE clients SET version = version + 1
     WHERE id IN (SELECT client_id FROM client_users WHERE user_id = NEW.id);
END;

CREATE TRIGGER matters_bump_ins AFTER INSERT ON matters BEGIN
    UPDATE clients SET version = version + 1 WHERE id = NEW.client_id;
END;
CREATE TRIGGER matters_bump_upd AFTER UPDATE ON matters BEGIN
    UPDATE clients SET version = version + 1 WHERE id IN (NEW.client_id, OLD.client_id);
END;
CREATE TRIGGER matters_bump_del AFTER DELETE ON matters BEGIN
    UPDATE clients SET version = version + 1 WHERE id = OLD.client_id;
END;

CREATE TRIGGER shares_bump_ins AFTER INSERT ON shares BEGIN
    UPDATE clients SET version = version + 1 WHERE id = NEW.client_id;
END;
CREATE TRIGGER shares_bump_upd AFTER UPDATE ON shares BEGIN
    UPDATE clients SET version = version + 1 WHERE id IN (NEW.client_id, OLD.client_id);
END;
CREATE TRIGGER shares_bump_del AFTER DELETE ON shares BEGIN
    UPDATE clients SET version = version + 1 WHERE id = OLD.client_id;
END;

CREATE TRIGGER matter_comments_bump_ins AFTER INSERT ON matter_comments BEGIN
    UPDATE clients SET version = version + 1 WHERE id = NEW.client_id;
END;
CREATE TRIGGER matter_comments_bump_upd AFTER UPDATE ON matter_comments BEGIN
    UPDATE clients SET version = version + 1 WHERE id IN (NEW.client_id, OLD.client_id);
END;
CREATE TRIGGER matter_comments_bump_del AFTER DELETE ON matter_comments BEGIN
    UPDATE clients SET version = version + 1 WHERE id = OLD.client_id;
END;

CREATE TRIGGER item_reads_bump_ins AFTER INSERT ON item_reads BEGIN
    UPDATE clients SET version = version + 1 WHERE id = NEW.client_id;
END;
CREATE TRIGGER item_reads_bump_upd AFTER UPDATE ON item_reads BEGIN
    UPDATE clients SET version = version + 1 WHERE id IN (NEW.client_id, OLD.client_id);
END;
CREATE TRIGGER item_reads_bump_del AFTER DELETE ON item_reads BEGIN
    UPDATE clients SET version = version + 1 WHERE id = OLD.client_id;
END;

CREATE TRIGGER files_bump_ins AFTER INSERT ON files BEGIN
    UPDATE clients SET version = version + 1 WHERE id = NEW.client_id;
END;
CREATE TRIGGER files_bump_upd AFTER UPDATE ON files BEGIN
    UPDATE clients SET version = version + 1 WHERE id IN (NEW.client_id, OLD.client_id);
END;
CREATE TRIGGER files_bump_del AFTER DELETE ON files BEGIN
    UPDATE clients SET version = version + 1 WHERE id = OLD.client_id;
END;

CREATE TRIGGER conversations_bump_ins AFTER INSERT ON conversations BEGIN
    UPDATE clients SET version = version + 1 WHERE id = NEW.client_id;
END;
CREATE TRIGGER conversations_bump_upd AFTER UPDATE ON conversations BEGIN
    UPDATE clients SET version = version + 1 WHERE id IN (NEW.client_id, OLD.client_id);
END;
CREATE TRIGGER conversations_bump_del AFTER DELETE ON conversations BEGIN
    UPDATE clients SET version = version + 1 WHERE id = OLD.client_id;
END;

CREATE TRIGGER tasks_bump_ins AFTER INSERT ON tasks BEGIN
    UPDATE clients SET version = version + 1 WHERE id = NEW.client_id;
END;
CREATE TRIGGER tasks_bump_upd AFTER UPDATE ON tasks BEGIN
    UPDATE clients SET version = version + 1 WHERE id IN (NEW.client_id, OLD.client_id);
END;
CREATE TRIGGER tasks_bump_del AFTER DELETE ON tasks BEGIN
    UPDATE clients SET version = version + 1 WHERE id = OLD.client_id;
END;

CREATE TRIGGER form_assignments_bump_ins AFTER INSERT ON form_assignments BEGIN
    UPDATE clients SET version = version + 1 WHERE id = NEW.client_id;
END;
CREATE TRIGGER form_assignments_bump_upd AFTER UPDATE ON form_assignments BEGIN
    UPDATE clients SET version = version + 1 WHERE id IN (NEW.client_id, OLD.client_id);
END;
CREATE TRIGGER form_assignments_bump_del AFTER DELETE ON form_assignments BEGIN
    UPDATE clients SET version = version + 1 WHERE id = OLD.client_id;
END;

CREATE TRIGGER folders_bump_ins AFTER INSERT ON folders BEGIN
    UPDATE clients SET version = version + 1 WHERE id = NEW.client_id;
END;
CREATE TRIGGER folders_bump_upd AFTER UPDATE ON folders BEGIN
    UPDATE clients SET version = version + 1 WHERE id IN (NEW.client_id, OLD.client_id);
END;
CREATE TRIGGER folders_bump_del AFTER DELETE ON folders BEGIN
    UPDATE clients SET version = version + 1 WHERE id = OLD.client_id;
END;

CREATE TRIGGER client_users_bump_ins AFTER INSERT ON client_users BEGIN
    UPDATE clients SET version = version + 1 WHERE id = NEW.client_id;
END;
CREATE TRIGGER client_users_bump_upd AFTER UPDATE ON client_users BEGIN
    UPDATE clients SET version = version + 1 WHERE id IN (NEW.client_id, OLD.client_id);
END;
CREATE TRIGGER client_users_bump_del AFTER DELETE ON client_users BEGIN
    UPDATE clients SET version = version + 1 WHERE id = OLD.client_id;
END;

CREATE TRIGGER conversation_members_bump_ins AFTER INSERT ON conversation_members BEGIN
    UPDATE clients SET version = version + 1 WHERE id = (SELECT client_id FROM conversations WHERE id = NEW.conversation_id);
END;
CREATE TRIGGER conversation_members_bump_upd AFTER UPDATE ON conversation_members BEGIN
    UPDATE clients SET version = version + 1
     WHERE id IN (SELECT client_id FROM conversations WHERE id IN (NEW.conversation_id, OLD.conversation_id));
END;
CREATE TRIGGER conversation_members_bump_del AFTER DELETE ON conversation_members BEGIN
    UPDATE clients SET version = version + 1 WHERE id = (SELECT client_id FROM conversations WHERE id = OLD.conversation_id);
END;

CREATE TRIGGER messages_bump_ins AFTER INSERT ON messages BEGIN
    UPDATE clients SET version = version + 1 WHERE id = (SELECT client_id FROM conversations WHERE id = NEW.conversation_id);
END;
CREATE TRIGGER messages_bump_upd AFTER UPDATE ON messages BEGIN
    UPDATE clients SET version = version + 1
     WHERE id IN (SELECT client_id FROM conversations WHERE id IN (NEW.conversation_id, OLD.conversation_id));
END;
CREATE TRIGGER messages_bump_del AFTER DELETE ON messages BEGIN
    UPDATE clients SET version = version + 1 WHERE id = (SELECT client_id FROM conversations WHERE id = OLD.conversation_id);
END;

CREATE TRIGGER message_reads_bump_ins AFTER INSERT ON message_reads BEGIN
    UPDATE clients SET version = version + 1 WHERE id = (SELECT client_id FROM conversations WHERE id = NEW.conversation_id);
END;
CREATE TRIGGER message_reads_bump_upd AFTER UPDATE ON message_reads BEGIN
    UPDATE clients SET version = version + 1
     WHERE id IN (SELECT client_id FROM conversations WHERE id IN (NEW.conversation_id, OLD.conversation_id));
END;
CREATE TRIGGER message_reads_bump_del AFTER DELETE ON message_reads BEGIN
    UPDATE clients SET version = version + 1 WHERE id = (SELECT client_id FROM conversations WHERE id = OLD.conversation_id);
END;

CREATE TRIGGER file_comments_bump_ins AFTER INSERT ON file_comments BEGIN
    UPDATE clients SET version = version + 1 WHERE id = (SELECT client_id FROM files WHERE id = NEW.file_id);
END;
CREATE TRIGGER file_comments_bump_upd AFTER UPDATE ON file_comments BEGIN
    UPDATE clients SET version = version + 1
     WHERE id IN (SELECT client_id FROM files WHERE id IN (NEW.file_id, OLD.file_id));
END;
CREATE TRIGGER file_comments_bump_del AFTER DELETE ON file_comments BEGIN
    UPDATE clients SET version = version + 1 WHERE id = (SELECT client_id FROM files WHERE id = OLD.file_id);
END;

CREATE TRIGGER form_submissions_bump_ins AFTER INSERT ON form_submissions BEGIN
    UPDATE clients SET version = version + 1 WHERE id = (SELECT client_id FROM form_assignments WHERE id = NEW.assignment_id);
END;
CREATE TRIGGER form_submissions_bump_upd AFTER UPDATE ON form_submissions BEGIN
    UPDATE clients SET version = version + 1
     WHERE id IN (SELECT client_id FROM form_assignments WHERE id IN (NEW.assignment_id, OLD.assignment_id));
END;
CREATE TRIGGER form_submissions_bump_del AFTER DELETE ON form_submissions BEGIN
    UPDATE clients SET version = version + 1 WHERE id = (SELECT client_id FROM form_assignments WHERE id = OLD.assignment_id);
END;
