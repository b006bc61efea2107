-- Full-text search over a comment's text and its author, as the inbox searches messages.
ALTER TABLE comments
    ADD COLUMN search tsvector GENERATED ALWAYS AS
        (to_tsvector('simple', coalesce(text, '') || ' ' || coalesce(author_name, ''))) STORED;
CREATE INDEX comments_search_idx ON comments USING gin (search);
-- A post's comments, newest first (the queue's post filter and the post header's counts).
CREATE INDEX comments_post_idx ON comments (tenant_id, post_id, commented_at DESC, id DESC);
