DROP TABLE messaging_agent_days;
DROP TABLE messaging_channel_days;
DROP TABLE messaging_tenant_hours;
