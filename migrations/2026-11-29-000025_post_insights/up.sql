-- The lifetime figures of each post, reel and story, read from Meta (or from the
-- `story_insights` webhook): the latest value per metric. A day's snapshot also goes to
-- insight_points (object = the post), which draws the post's series.
CREATE TABLE post_insights (
    tenant_id  BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    post_id    TEXT NOT NULL,
    -- Meta's metric name; a breakdown as `metric.key` (reactions.like, navigation.tap_forward).
    metric     TEXT NOT NULL,
    value      BIGINT NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, post_id, metric)
);
CREATE INDEX post_insights_rank_idx ON post_insights (tenant_id, metric, value DESC);

-- Why a post has no figures ("too few viewers": Meta's code 10), and when they were last read.
ALTER TABLE comment_posts
    ADD COLUMN insights_note TEXT,
    ADD COLUMN insights_at TIMESTAMPTZ;
CREATE INDEX comment_posts_posted_idx ON comment_posts (tenant_id, posted_at DESC);
