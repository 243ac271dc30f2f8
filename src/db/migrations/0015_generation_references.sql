-- Lineage, many to many: every image a generation was drawn from, in the order the model received them
-- (position 1 is generations.parent_image_id, kept as the first parent for the code that reads one). No foreign
-- keys, as for parent_image_id: image rows are never removed (a deletion marks them), and storage:copy copies
-- generations before images.
CREATE TABLE generation_references (
  generation_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  image_id TEXT NOT NULL,
  -- Where this image was uploaded for the model (Replicate's Files API, when there is no signed link):
  -- recorded once, so every slot and a restart send the same input. Cleared when the image is deleted.
  reference_url TEXT,
  PRIMARY KEY (generation_id, position)
);
CREATE INDEX generation_references_image ON generation_references (image_id);
-- Every generation drawn from one image so far has that image as its only reference.
INSERT INTO generation_references (generation_id, position, image_id, reference_url)
  SELECT id, 1, parent_image_id, reference_url FROM generations WHERE parent_image_id IS NOT NULL;
