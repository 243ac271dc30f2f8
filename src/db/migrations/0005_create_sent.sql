-- When a prediction create was about to be sent for an image slot or a video, written before the request
-- leaves. A row with this mark and no prediction id lost its create's answer to a stop or a crash: on resume
-- the prediction is looked up on the provider and adopted (or the row fails with the reason), never created
-- again.
ALTER TABLE images ADD COLUMN create_sent_at BIGINT;
ALTER TABLE videos ADD COLUMN create_sent_at BIGINT;
