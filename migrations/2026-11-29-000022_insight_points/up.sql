-- Daily insight values read from Meta, so insights pages never call Meta while someone waits.
-- One row per channel, object (Page, IG account or media), metric and day; a refresh rewrites
-- the value (Meta revises recent days).
CREATE TABLE insight_points (
    tenant_id  BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    object_id  TEXT NOT NULL,
    metric     TEXT NOT NULL,
    -- The day the value covers (Meta's `end_time` is the end of that day).
    day        DATE NOT NULL,
    value      BIGINT NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, object_id, metric, day)
);
CREATE INDEX insight_points_tenant_idx ON insight_points (tenant_id, metric, day);

-- Metrics Meta refused for a channel (no longer served, or not for this account): the page
-- says which, and the next refresh asks again.
CREATE TABLE insight_refusals (
    tenant_id  BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    metric     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    noticed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, metric)
);
