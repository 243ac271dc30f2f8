-- Each image prediction's own running time as Replicate reports it (creation to completion, in ms): a
-- restarted bot paces its status checks by the last ones of the same model instead of starting blind.
ALTER TABLE images ADD COLUMN predict_ms BIGINT;
CREATE INDEX images_model_finished ON images (model, finished_at);
