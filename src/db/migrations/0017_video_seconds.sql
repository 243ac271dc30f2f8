-- A video's length in seconds on its ledger rows (its reservation and its refunds), so /usage can price a video
-- by its model's price per second. Null for images, and for videos reserved before lengths could be chosen
-- (priced at their model's one length).
ALTER TABLE usage_ledger ADD COLUMN seconds INTEGER;
