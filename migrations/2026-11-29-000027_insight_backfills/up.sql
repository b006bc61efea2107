-- A long read of a channel's insights history (90 days on connect, up to two years on
-- request): the page shows its progress, and a restart resumes at the next window.
CREATE TABLE insight_backfills (
    id            BIGSERIAL PRIMARY KEY,
    tenant_id     BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id    BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    state         TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
    -- The oldest day asked for, and the first day not read yet.
    from_day      DATE NOT NULL,
    next_day      DATE NOT NULL,
    to_day        DATE NOT NULL,
    windows_done  INT NOT NULL DEFAULT 0,
    windows_total INT NOT NULL,
    error         TEXT,
    started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at   TIMESTAMPTZ
);
-- One running backfill per channel.
CREATE UNIQUE INDEX insight_backfills_running ON insight_backfills (channel_id) WHERE state = 'running';
CREATE INDEX insight_backfills_tenant_idx ON insight_backfills (tenant_id, started_at DESC);
