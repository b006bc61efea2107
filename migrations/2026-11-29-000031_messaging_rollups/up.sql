-- The messaging page over all channels read every hourly row of the range (about 50,000 for
-- 28 days of a tenant with 50 channels), so it slowed with the tenant's volume. These rollups
-- hold what the page shows at a size that does not grow with messages: the tenant's hours (day
-- chart, heatmap, totals), and UTC days per channel and per agent (the tables). The job that
-- folds the message deltas into `messaging_hours` writes them in the same statement, and
-- `analytics::rebuild` recounts them, so they always equal the sums of `messaging_hours`.

CREATE TABLE messaging_tenant_hours (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    hour      TIMESTAMPTZ NOT NULL,
    inbound   INTEGER NOT NULL DEFAULT 0,
    outbound  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, hour) INCLUDE (inbound, outbound)
);

-- Days are UTC days: a tenant's day that is not one is read from the hourly rows at its edges.
CREATE TABLE messaging_channel_days (
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id  BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    day         DATE NOT NULL,
    inbound     INTEGER NOT NULL DEFAULT 0,
    outbound    INTEGER NOT NULL DEFAULT 0,
    human_agent INTEGER NOT NULL DEFAULT 0,
    template    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, channel_id) INCLUDE (inbound, outbound, human_agent, template)
);

-- Outbound messages per sending agent (0: sent from another Meta tool) over all channels.
CREATE TABLE messaging_agent_days (
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id    BIGINT NOT NULL,
    day         DATE NOT NULL,
    outbound    INTEGER NOT NULL DEFAULT 0,
    human_agent INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, agent_id) INCLUDE (outbound, human_agent)
);

INSERT INTO messaging_tenant_hours (tenant_id, hour, inbound, outbound)
SELECT tenant_id, hour, sum(inbound), sum(outbound) FROM messaging_hours GROUP BY 1, 2;

INSERT INTO messaging_channel_days (tenant_id, channel_id, day, inbound, outbound, human_agent, template)
SELECT tenant_id, channel_id, (hour AT TIME ZONE 'UTC')::date,
       sum(inbound), sum(outbound), sum(human_agent), sum(template)
  FROM messaging_hours GROUP BY 1, 2, 3;

INSERT INTO messaging_agent_days (tenant_id, agent_id, day, outbound, human_agent)
SELECT tenant_id, agent_id, (hour AT TIME ZONE 'UTC')::date, sum(outbound), sum(human_agent)
  FROM messaging_hours WHERE agent_id <> 0 GROUP BY 1, 2, 3;
