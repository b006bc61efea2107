-- The posts page ranked the posts of a range by looking up each one's figure (767 lookups for
-- 28 days of a tenant with 10,000 posts), so it slowed with the tenant's volume. Each post now
-- has one row per column of the page, and the page walks an index in the column's order,
-- reading only about as many rows as it shows.

-- Which metrics fill each column of the posts page: Facebook's and Instagram's names for one
-- idea. `insights_posts::COLUMNS` lists the same (a test holds them equal).
CREATE TABLE post_columns (
    column_key TEXT NOT NULL,
    metric     TEXT NOT NULL,
    PRIMARY KEY (metric, column_key)
);
INSERT INTO post_columns (column_key, metric) VALUES
    ('views', 'views'), ('views', 'post_media_view'),
    ('reach', 'reach'), ('reach', 'post_total_media_view_unique'),
    ('reactions', 'likes'), ('reactions', 'post_reactions_by_type_total'),
    ('comments', 'comments'),
    ('shares', 'shares'),
    ('saved', 'saved'),
    ('replies', 'replies'),
    ('clicks', 'post_clicks'),
    ('interactions', 'total_interactions');

-- A post's figure in one column (the highest of the column's metrics), with the post's time so
-- a range is filtered inside the index.
CREATE TABLE post_ranks (
    tenant_id  BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    post_ref   BIGINT NOT NULL REFERENCES comment_posts (id) ON DELETE CASCADE,
    column_key TEXT NOT NULL,
    value      BIGINT NOT NULL,
    posted_at  TIMESTAMPTZ,
    PRIMARY KEY (post_ref, column_key)
);
CREATE INDEX post_ranks_tenant_idx
    ON post_ranks (tenant_id, column_key, value DESC, posted_at DESC, post_ref DESC);
CREATE INDEX post_ranks_channel_idx
    ON post_ranks (channel_id, column_key, value DESC, posted_at DESC, post_ref DESC);

-- The ranks of the given posts, from their figures. Kept by the database so every writer of
-- figures (refresh, story webhook, seeding) ranks the same way.
CREATE FUNCTION post_ranks_refresh(posts BIGINT[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO post_ranks AS r (tenant_id, channel_id, post_ref, column_key, value, posted_at)
    SELECT p.tenant_id, p.channel_id, p.id, c.column_key, max(i.value), p.posted_at
      FROM comment_posts p
      JOIN post_insights i ON i.channel_id = p.channel_id AND i.post_id = p.platform_post_id
      JOIN post_columns c ON c.metric = i.metric
     WHERE p.id = ANY(posts)
     GROUP BY p.tenant_id, p.channel_id, p.id, c.column_key, p.posted_at
     ORDER BY p.id, c.column_key
    ON CONFLICT (post_ref, column_key) DO UPDATE
       SET value = excluded.value, posted_at = excluded.posted_at
$$;

CREATE FUNCTION post_insights_ranked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM post_ranks_refresh(ARRAY(
        SELECT DISTINCT p.id FROM new_insights n
          JOIN comment_posts p ON p.channel_id = n.channel_id AND p.platform_post_id = n.post_id));
    RETURN NULL;
END $$;
CREATE TRIGGER post_insights_ranked_insert AFTER INSERT ON post_insights
    REFERENCING NEW TABLE AS new_insights
    FOR EACH STATEMENT EXECUTE FUNCTION post_insights_ranked();
CREATE TRIGGER post_insights_ranked_update AFTER UPDATE ON post_insights
    REFERENCING NEW TABLE AS new_insights
    FOR EACH STATEMENT EXECUTE FUNCTION post_insights_ranked();

-- A post saved after its figures (or re-dated by a sync) is ranked with its time.
CREATE FUNCTION comment_posts_ranked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM post_ranks_refresh(ARRAY(SELECT id FROM new_posts));
    RETURN NULL;
END $$;
CREATE TRIGGER comment_posts_ranked_insert AFTER INSERT ON comment_posts
    REFERENCING NEW TABLE AS new_posts
    FOR EACH STATEMENT EXECUTE FUNCTION comment_posts_ranked();
CREATE FUNCTION comment_posts_redated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE post_ranks SET posted_at = NEW.posted_at WHERE post_ref = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER comment_posts_redated AFTER UPDATE OF posted_at ON comment_posts
    FOR EACH ROW WHEN (OLD.posted_at IS DISTINCT FROM NEW.posted_at)
    EXECUTE FUNCTION comment_posts_redated();

SELECT post_ranks_refresh(ARRAY(SELECT id FROM comment_posts));
