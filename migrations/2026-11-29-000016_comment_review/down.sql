DROP INDEX comments_needs_review_idx;
ALTER TABLE comments DROP COLUMN reviewed_by, DROP COLUMN reviewed_at;
