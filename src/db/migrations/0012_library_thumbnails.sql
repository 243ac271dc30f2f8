-- A library entry's small preview, stored once (thumbnails/<uuid>.jpg in the file store, named here as
-- `<uuid>.thumb.jpg`) so paging the gallery never decodes the original image. Entries made before this have
-- none; the gallery makes theirs the first time it shows them.
ALTER TABLE library_entries ADD COLUMN thumbnail_file TEXT;
