ALTER TABLE contacts DROP COLUMN picture_file, DROP COLUMN picture_content_type;
