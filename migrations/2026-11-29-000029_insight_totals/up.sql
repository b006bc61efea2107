-- Each tenant's daily total of each metric over its channels' own accounts (posts' snapshots
-- excluded): the "all channels" overview reads a few thousand of these instead of summing
-- hundreds of thousands of points per view. Recomputed from insight_points for the days a
-- refresh wrote, under a per-tenant lock, in the refresh's own transaction.
CREATE TABLE insight_totals (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    metric    TEXT NOT NULL,
    day       DATE NOT NULL,
    value     BIGINT NOT NULL,
    -- When a refresh last wrote this day (the page's "last refresh").
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, metric, day)
);

INSERT INTO insight_totals (tenant_id, metric, day, value)
SELECT p.tenant_id, p.metric, p.day, LEAST(sum(p.value), 9223372036854775807)::bigint
  FROM insight_points p JOIN channels c ON c.id = p.channel_id AND c.platform_id = p.object_id
 GROUP BY 1, 2, 3;
