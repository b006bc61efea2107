-- Audience figures Meta gives as one breakdown, not a daily series: follower and engaged
-- audience demographics (top 45 per dimension) and followers online by hour. Each refresh
-- replaces a metric's rows for the object.
CREATE TABLE insight_breakdowns (
    tenant_id  BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    object_id  TEXT NOT NULL,
    metric     TEXT NOT NULL,
    -- age, gender, country, city, hour
    dimension  TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      BIGINT NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, object_id, metric, dimension, key)
);
CREATE INDEX insight_breakdowns_tenant_idx ON insight_breakdowns (tenant_id, metric, dimension);
