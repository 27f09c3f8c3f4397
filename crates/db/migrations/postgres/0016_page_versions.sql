-- Versions of what signed-in pages show, so that a server can keep a page's data and know
-- for certain, from the one query that checks the session, whether it is still current.
-- Every write to a client's records bumps that client's version, in the write's own
-- transaction, through the triggers below (so no write path can forget); every change to a
-- client bumps its firm's data version, a change to what the client list shows (a client
-- added or removed, a name, kind or portal opened or closed) its clients version, and the
-- firm's quick links and people's names its shared version. A page's data is kept under the versions read with its session and
-- is used only while they are unchanged.
--
-- On PostgreSQL the firm's data version is bumped when the transaction commits (a deferred
-- constraint trigger), and once per transaction, so that writes of one firm hold its version
-- row only while they commit, not from their first change.
ALTER TABLE clients ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE firm_versions (
    firm_id UUID PRIMARY KEY REFERENCES firms(id),
    data_version BIGINT NOT NULL DEFAULT 0,
    shared_version BIGINT NOT NULL DEFAULT 0,
    clients_version BIGINT NOT NULL DEFAULT 0,
    -- The transaction that last bumped data_version (PostgreSQL only).
    bumped_in BIGINT
);
INSERT INTO firm_versions (firm_id) SELECT id FROM firms;

CREATE FUNCTION portico_firm_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO firm_versions (firm_id) VALUES (NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER firms_versions_row AFTER INSERT ON firms
    FOR EACH ROW EXECUTE FUNCTION portico_firm_created();

CREATE FUNCTION portico_bump_firm_data(firm UUID) RETURNS VOID LANGUAGE sql AS $$
    UPDATE firm_versions SET data_version = data_version + 1, bumped_in = txid_current()
     WHERE firm_id = firm AND bumped_in IS DISTINCT FROM txid_current();
$$;

CREATE FUNCTION portico_client_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN PERFORM portico_bump_firm_data(OLD.firm_id); END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM portico_bump_firm_data(NEW.firm_id); END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER clients_bump_firm AFTER INSERT OR UPDATE OR DELETE ON clients
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION portico_client_changed();

CREATE FUNCTION portico_client_listing_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE firm_versions SET clients_version = clients_version + 1 WHERE firm_id = OLD.firm_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE firm_versions SET clients_version = clients_version + 1 WHERE firm_id = NEW.firm_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER clients_bump_list AFTER INSERT OR DELETE OR UPDATE OF firm_id, name, kind, portal_open
    ON clients FOR EACH ROW EXECUTE FUNCTION portico_client_listing_changed();

CREATE FUNCTION portico_quick_link_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE firm_versions SET shared_version = shared_version + 1 WHERE firm_id = OLD.firm_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE firm_versions SET shared_version = shared_version + 1 WHERE firm_id = NEW.firm_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER quick_links_bump AFTER INSERT OR UPDATE OR DELETE ON quick_links
    FOR EACH ROW EXECUTE FUNCTION portico_quick_link_changed();

-- A person's name shows on the pages of every firm and client they belong to.
CREATE FUNCTION portico_user_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE firm_versions SET data_version = data_version + 1, shared_version = shared_version + 1
     WHERE firm_id IN (SELECT firm_id FROM staff_members WHERE user_id = NEW.id);
    UPDATE clients SET version = version + 1
     WHERE id IN (SELECT client_id FROM client_users WHERE user_id = NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER users_bump_name AFTER UPDATE OF name ON users
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION portico_user_renamed();

-- Rows that name their client.
CREATE FUNCTION portico_client_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE clients SET version = version + 1 WHERE id = NEW.client_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE clients SET version = version + 1 WHERE id = OLD.client_id;
    ELSE
        UPDATE clients SET version = version + 1 WHERE id IN (NEW.client_id, OLD.client_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER matters_bump AFTER INSERT OR UPDATE OR DELETE ON matters
    FOR EACH ROW EXECUTE FUNCTION portico_client_row_changed();
CREATE TRIGGER shares_bump AFTER INSERT OR UPDATE OR DELETE ON shares
    FOR EACH ROW EXECUTE FUNCTION portico_client_row_changed();
CREATE TRIGGER matter_comments_bump AFTER INSERT OR UPDATE OR DELETE ON matter_comments
    FOR EACH ROW EXECUTE FUNCTION portico_client_row_changed();
CREATE TRIGGER item_reads_bump AFTER INSERT OR UPDATE OR DELETE ON item_reads
    FOR EACH ROW EXECUTE FUNCTION portico_client_row_changed();
CREATE TRIGGER files_bump AFTER INSERT OR UPDATE OR DELETE ON files
    FOR EACH ROW EXECUTE FUNCTION portico_client_row_changed();
CREATE TRIGGER conversations_bump AFTER INSERT OR UPDATE OR DELETE ON conversations
    FOR EACH ROW EXECUTE FUNCTION portico_client_row_changed();
CREATE TRIGGER tasks_bump AFTER INSERT OR UPDATE OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION portico_client_row_changed();
CREATE TRIGGER form_assignments_bump AFTER INSERT OR UPDATE OR DELETE ON form_assignments
    FOR EACH ROW EXECUTE FUNCTION portico_client_row_changed();
CREATE TRIGGER folders_bump AFTER INSERT OR UPDATE OR DELETE ON folders
    FOR EACH ROW EXECUTE FUNCTION portico_client_row_changed();
CREATE TRIGGER client_users_bump AFTER INSERT OR UPDATE OR DELETE ON client_users
    FOR EACH ROW EXECUTE FUNCTION portico_client_row_changed();

-- Rows that name their client through conversations.
CREATE FUNCTION portico_conversation_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE clients SET version = version + 1 WHERE id = (SELECT client_id FROM conversations WHERE id = NEW.conversation_id);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE clients SET version = version + 1 WHERE id = (SELECT client_id FROM conversations WHERE id = OLD.conversation_id);
    ELSE
        UPDATE clients SET version = version + 1
         WHERE id IN (SELECT client_id FROM conversations WHERE id IN (NEW.conversation_id, OLD.conversation_id));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER conversation_members_bump AFTER INSERT OR UPDATE OR DELETE ON conversation_members
    FOR EACH ROW EXECUTE FUNCTION portico_conversation_row_changed();
CREATE TRIGGER messages_bump AFTER INSERT OR UPDATE OR DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION portico_conversation_row_changed();
CREATE TRIGGER message_reads_bump AFTER INSERT OR UPDATE OR DELETE ON message_reads
    FOR EACH ROW EXECUTE FUNCTION portico_conversation_row_changed();

-- Rows that name their client through files.
CREATE FUNCTION portico_file_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE clients SET version = version + 1 WHERE id = (SELECT client_id FROM files WHERE id = NEW.file_id);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE clients SET version = version + 1 WHERE id = (SELECT client_id FROM files WHERE id = OLD.file_id);
    ELSE
        UPDATE clients SET version = version + 1
         WHERE id IN (SELECT client_id FROM files WHERE id IN (NEW.file_id, OLD.file_id));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER file_comments_bump AFTER INSERT OR UPDATE OR DELETE ON file_comments
    FOR EACH ROW EXECUTE FUNCTION portico_file_row_changed();

-- Rows that name their client through form_assignments.
CREATE FUNCTION portico_assignment_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE clients SET version = version + 1 WHERE id = (SELECT client_id FROM form_assignments WHERE id = NEW.assignment_id);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE clients SET version = version + 1 WHERE id = (SELECT client_id FROM form_assignments WHERE id = OLD.assignment_id);
    ELSE
        UPDATE clients SET version = version + 1
         WHERE id IN (SELECT client_id FROM form_assignments WHERE id IN (NEW.assignment_id, OLD.assignment_id));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER form_submissions_bump AFTER INSERT OR UPDATE OR DELETE ON form_submissions
    FOR EACH ROW EXECUTE FUNCTION portico_assignment_row_changed();
