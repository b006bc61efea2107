-- A moderator's "Reviewed" mark takes a comment out of the queue of comments needing review.
ALTER TABLE comments
    ADD COLUMN reviewed_at timestamptz,
    ADD COLUMN reviewed_by bigint REFERENCES users (id) ON DELETE SET NULL;

-- The queue moderators open most: customers' live comments nobody has reviewed, newest first.
CREATE INDEX comments_needs_review_idx ON comments (tenant_id, commented_at DESC, id DESC)
    WHERE reviewed_at IS NULL AND deleted_at IS NULL AND NOT from_business;
