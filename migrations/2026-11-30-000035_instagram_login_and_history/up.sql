-- Instagram accounts reached through Instagram Login (no Facebook Page): their own token host
-- and a 60-day token that Parley must refresh before it ends.
ALTER TABLE channels
    ADD COLUMN login TEXT NOT NULL DEFAULT 'facebook' CHECK (login IN ('facebook', 'instagram')),
    ADD COLUMN token_expires_at TIMESTAMPTZ,
    ADD COLUMN token_refreshed_at TIMESTAMPTZ;
CREATE INDEX channels_token_expiry_idx ON channels (token_expires_at)
    WHERE status = 'connected' AND token_expires_at IS NOT NULL;

-- The Instagram Login wizard has its own OAuth state.
ALTER TABLE oauth_states DROP CONSTRAINT oauth_states_purpose_check,
    ADD CONSTRAINT oauth_states_purpose_check CHECK (purpose IN ('meta', 'whatsapp', 'instagram'));

-- Messages read from the Conversations API when a channel connects: history, never news.
ALTER TABLE messages ADD COLUMN imported BOOLEAN NOT NULL DEFAULT FALSE;
-- Meta lets an app read only the 20 most recent messages of a conversation: set when the
-- import saw that there were more.
ALTER TABLE conversations ADD COLUMN history_limited BOOLEAN NOT NULL DEFAULT FALSE;

-- An import of a channel's recent conversations: one page of conversations per job run, the
-- cursor saved after every page so a restart resumes where it stopped.
CREATE TABLE history_imports (
    id                 BIGSERIAL PRIMARY KEY,
    tenant_id          BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id         BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    state              TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
    -- Conversations last active before this are not imported.
    since              TIMESTAMPTZ NOT NULL,
    max_conversations  INT NOT NULL CHECK (max_conversations > 0),
    -- The `after` cursor of the next page of conversations (none: the first page).
    page_cursor        TEXT,
    -- How many conversations of that page are done (a retried page skips them).
    page_done          INT NOT NULL DEFAULT 0,
    conversations_done INT NOT NULL DEFAULT 0,
    messages_done      INT NOT NULL DEFAULT 0,
    -- Conversations Meta would not describe (e.g. deleted meanwhile): skipped, not fatal.
    conversations_skipped INT NOT NULL DEFAULT 0,
    error              TEXT,
    started_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at        TIMESTAMPTZ,
    FOREIGN KEY (channel_id, tenant_id) REFERENCES channels (id, tenant_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX history_imports_running ON history_imports (channel_id) WHERE state = 'running';
CREATE INDEX history_imports_tenant_idx ON history_imports (tenant_id, channel_id, started_at DESC);
