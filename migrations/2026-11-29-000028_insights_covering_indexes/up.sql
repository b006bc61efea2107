-- The insights pages read ranges of these tables by tenant and time: covering indexes let
-- PostgreSQL answer from the index alone (no visit to rows scattered over the heap), which is
-- what keeps the pages fast at millions of messages (`parley bench insights`).
CREATE INDEX messaging_hours_cover ON messaging_hours (tenant_id, hour)
    INCLUDE (channel_id, agent_id, inbound, outbound, human_agent, template);
DROP INDEX messaging_hours_tenant_idx;
CREATE INDEX conversation_episodes_cover ON conversation_episodes (tenant_id, opened_at)
    INCLUDE (channel_id, first_response_at, first_responder_id, resolved_at, resolved_by);
DROP INDEX conversation_episodes_tenant_idx;
CREATE INDEX insight_points_cover ON insight_points (tenant_id, metric, day)
    INCLUDE (channel_id, object_id, value);
DROP INDEX insight_points_tenant_idx;
