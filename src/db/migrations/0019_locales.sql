-- The languages a generation's and a video's messages are written in, kept so that whichever process delivers
-- them later (a worker, a resumed job) writes in the same language: `locale` is the member's (their client's
-- language, for what only they see), `public_locale` the channel's (the server's language, or the member's
-- outside a server). Null for rows made before languages were kept: English.
ALTER TABLE generations ADD COLUMN locale TEXT;
ALTER TABLE generations ADD COLUMN public_locale TEXT;
ALTER TABLE videos ADD COLUMN locale TEXT;
ALTER TABLE videos ADD COLUMN public_locale TEXT;
