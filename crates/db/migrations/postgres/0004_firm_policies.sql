-- Firm security policies: two-step sign-in required for staff and/or clients.
ALTER TABLE firms ADD COLUMN require_2fa_staff BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE firms ADD COLUMN require_2fa_clients BOOLEAN NOT NULL DEFAULT FALSE;
