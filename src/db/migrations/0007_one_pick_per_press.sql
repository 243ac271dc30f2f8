-- The button press that recorded a pick: a press handled twice (a retried delivery, or two processes) records
-- one row. Picks made before this column existed have none; NULLs never collide.
ALTER TABLE selections ADD COLUMN interaction_id TEXT;
CREATE UNIQUE INDEX selections_interaction ON selections (interaction_id);
