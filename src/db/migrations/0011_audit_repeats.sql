-- How many times an audited action happened on one row: a member's blocked prompts within a minute share the
-- first one's row (with its text) instead of flooding /moderation log, so the count is kept here.
ALTER TABLE audit_log ADD COLUMN occurrences INTEGER NOT NULL DEFAULT 1;
