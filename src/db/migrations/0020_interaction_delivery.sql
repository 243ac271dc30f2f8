-- How a job's result reaches Discord. 'channel': the interaction's reply while its token lives, then a message
-- of the bot's own in the channel. 'interaction': the bot is not in that place (a member's own install used in
-- a DM, a group DM or a server without the bot), so only the interaction's token may be used; a result that
-- finishes after the token's 15 minutes is kept and marked delivered_later_at, and the member is told on their
-- next use of the bot (later_notice_at: when they were told).
ALTER TABLE generations ADD COLUMN delivery TEXT NOT NULL DEFAULT 'channel';
ALTER TABLE generations ADD COLUMN delivered_later_at BIGINT;
ALTER TABLE generations ADD COLUMN later_notice_at BIGINT;
ALTER TABLE videos ADD COLUMN delivery TEXT NOT NULL DEFAULT 'channel';
ALTER TABLE videos ADD COLUMN delivered_later_at BIGINT;
ALTER TABLE videos ADD COLUMN later_notice_at BIGINT;
