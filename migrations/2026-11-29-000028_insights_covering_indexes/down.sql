CREATE INDEX insight_points_tenant_idx ON insight_points (tenant_id, metric, day);
DROP INDEX insight_points_cover;
CREATE INDEX conversation_episodes_tenant_idx ON conversation_episodes (tenant_id, opened_at);
DROP INDEX conversation_episodes_cover;
CREATE INDEX messaging_hours_tenant_idx ON messaging_hours (tenant_id, hour);
DROP INDEX messaging_hours_cover;
