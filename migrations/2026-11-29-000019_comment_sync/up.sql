-- The posts and media comments belong to, as Meta describes them: the queue shows each group
-- under its post's thumbnail, text and link. A row without `fetched_at` is known by id only
-- (a comment named it) and its details are on their way.
CREATE TABLE comment_posts (
    id               BIGSERIAL PRIMARY KEY,
    tenant_id        BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id       BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    platform_post_id TEXT NOT NULL,
    caption          TEXT,
    media_type       TEXT,
    thumbnail_url    TEXT,
    permalink        TEXT,
    posted_at        TIMESTAMPTZ,
    fetched_at       TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (channel_id, platform_post_id)
);
CREATE INDEX comment_posts_tenant_idx ON comment_posts (tenant_id, channel_id);

-- A backfill of a channel's recent posts and their comments: one page of posts at a time, the
-- position saved after every post so a restart resumes where it stopped.
CREATE TABLE comment_syncs (
    id             BIGSERIAL PRIMARY KEY,
    tenant_id      BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id     BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    state          TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
    -- Posts older than this are not read (the periodic re-sync reads the last days only).
    since          TIMESTAMPTZ NOT NULL,
    -- The `after` cursor of the page of posts being read (none: the first page).
    page_cursor    TEXT,
    -- How many posts of that page are done.
    page_done      INT NOT NULL DEFAULT 0,
    posts_done     INT NOT NULL DEFAULT 0,
    -- Posts listed so far (the total is known once the last page is listed).
    posts_listed   INT NOT NULL DEFAULT 0,
    listed_all     BOOLEAN NOT NULL DEFAULT FALSE,
    comments_found INT NOT NULL DEFAULT 0,
    error          TEXT,
    requested_by   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    started_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at    TIMESTAMPTZ
);
CREATE INDEX comment_syncs_channel_idx ON comment_syncs (tenant_id, channel_id, id DESC);
-- One running sync per channel.
CREATE UNIQUE INDEX comment_syncs_running_key ON comment_syncs (channel_id) WHERE state = 'running';
