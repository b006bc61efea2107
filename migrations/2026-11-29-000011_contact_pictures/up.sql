-- Parley's own copy of each customer's picture: Meta's picture URLs are signed and expire after
-- a few days, so pages show the copy (served to the tenant's users), never Meta's URL.
ALTER TABLE contacts ADD COLUMN picture_file TEXT, ADD COLUMN picture_content_type TEXT;
