-- Messaging analytics from Parley's own data, kept up to date by the database itself so every
-- path that writes messages (webhooks, sends, imports, seeding) is counted the same way, and the
-- insights pages read a few thousand pre-aggregated rows instead of millions of messages.

-- The tenant's time zone: the insights pages cut days in it.
ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

-- Messages per channel, UTC hour and sending agent (0: not sent by an agent in Parley: the
-- customer, or the business from another Meta tool).
CREATE TABLE messaging_hours (
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id  BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    hour        TIMESTAMPTZ NOT NULL,
    agent_id    BIGINT NOT NULL DEFAULT 0,
    inbound     INTEGER NOT NULL DEFAULT 0,
    outbound    INTEGER NOT NULL DEFAULT 0,
    -- Outbound sent with the HUMAN_AGENT tag (24 h – 7 days) or as a template (after 24 h);
    -- the rest went out inside the 24 h window.
    human_agent INTEGER NOT NULL DEFAULT 0,
    template    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, hour, agent_id)
);
CREATE INDEX messaging_hours_tenant_idx ON messaging_hours (tenant_id, hour);

-- One stretch of a conversation from the customer's first message until it is resolved: the
-- first response and the resolution are measured on it. A new message after resolution opens
-- the next episode.
CREATE TABLE conversation_episodes (
    id                 BIGSERIAL PRIMARY KEY,
    tenant_id          BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id         BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    conversation_id    BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    opened_at          TIMESTAMPTZ NOT NULL,
    first_response_at  TIMESTAMPTZ,
    -- NULL with a response: answered from another Meta tool.
    first_responder_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    resolved_at        TIMESTAMPTZ,
    -- The assignee when it was resolved.
    resolved_by        BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX conversation_episodes_open ON conversation_episodes (conversation_id)
    WHERE resolved_at IS NULL;
CREATE INDEX conversation_episodes_tenant_idx ON conversation_episodes (tenant_id, opened_at);

-- Hours are cut in UTC whatever the session's TimeZone.
CREATE FUNCTION messaging_hour(at TIMESTAMPTZ) RETURNS TIMESTAMPTZ
    LANGUAGE sql IMMUTABLE AS $$ SELECT date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' $$;

CREATE FUNCTION messages_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO messaging_hours AS h
           (tenant_id, channel_id, hour, agent_id, inbound, outbound, human_agent, template)
    SELECT tenant_id, channel_id, messaging_hour(sent_at), COALESCE(sender_user_id, 0),
           count(*) FILTER (WHERE direction = 'inbound'),
           count(*) FILTER (WHERE direction = 'outbound'),
           count(*) FILTER (WHERE direction = 'outbound' AND extra ->> 'send_mode' = 'human_agent'),
           count(*) FILTER (WHERE direction = 'outbound'
                              AND (kind = 'template' OR extra ->> 'send_mode' = 'template'))
      FROM new_messages
     GROUP BY 1, 2, 3, 4
     -- One lock order for every writer.
     ORDER BY 2, 3, 4
    ON CONFLICT (channel_id, hour, agent_id) DO UPDATE
       SET inbound = h.inbound + excluded.inbound,
           outbound = h.outbound + excluded.outbound,
           human_agent = h.human_agent + excluded.human_agent,
           template = h.template + excluded.template;

    INSERT INTO conversation_episodes (tenant_id, channel_id, conversation_id, opened_at)
    SELECT tenant_id, channel_id, conversation_id, min(sent_at)
      FROM new_messages
     WHERE direction = 'inbound'
     GROUP BY 1, 2, 3
     ORDER BY 3
    ON CONFLICT (conversation_id) WHERE resolved_at IS NULL DO NOTHING;

    UPDATE conversation_episodes e
       SET first_response_at = r.at, first_responder_id = r.agent
      FROM (SELECT DISTINCT ON (conversation_id) conversation_id, sent_at AS at, sender_user_id AS agent
              FROM new_messages
             WHERE direction = 'outbound'
             ORDER BY conversation_id, sent_at) r
     WHERE e.conversation_id = r.conversation_id
       AND e.resolved_at IS NULL
       AND e.first_response_at IS NULL
       AND r.at >= e.opened_at;
    RETURN NULL;
END $$;

-- Removed messages (echo copies of a message Parley sent) leave the counts.
CREATE FUNCTION messages_uncounted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE messaging_hours h
       SET inbound = h.inbound - o.inbound,
           outbound = h.outbound - o.outbound,
           human_agent = h.human_agent - o.human_agent,
           template = h.template - o.template
      FROM (SELECT channel_id, messaging_hour(sent_at) AS hour, COALESCE(sender_user_id, 0) AS agent_id,
                   count(*) FILTER (WHERE direction = 'inbound') AS inbound,
                   count(*) FILTER (WHERE direction = 'outbound') AS outbound,
                   count(*) FILTER (WHERE direction = 'outbound' AND extra ->> 'send_mode' = 'human_agent') AS human_agent,
                   count(*) FILTER (WHERE direction = 'outbound'
                                      AND (kind = 'template' OR extra ->> 'send_mode' = 'template')) AS template
              FROM old_messages
             GROUP BY 1, 2, 3) o
     WHERE h.channel_id = o.channel_id AND h.hour = o.hour AND h.agent_id = o.agent_id;
    RETURN NULL;
END $$;

CREATE TRIGGER messages_counted AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_messages
    FOR EACH STATEMENT EXECUTE FUNCTION messages_counted();
CREATE TRIGGER messages_uncounted AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_messages
    FOR EACH STATEMENT EXECUTE FUNCTION messages_uncounted();

CREATE FUNCTION episode_resolved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversation_episodes
       SET resolved_at = now(), resolved_by = NEW.assignee_id
     WHERE conversation_id = NEW.id AND resolved_at IS NULL;
    RETURN NULL;
END $$;

CREATE TRIGGER conversations_resolved AFTER UPDATE OF status ON conversations
    FOR EACH ROW WHEN (NEW.status = 'resolved' AND OLD.status IS DISTINCT FROM 'resolved')
    EXECUTE FUNCTION episode_resolved();

-- What is already there.
INSERT INTO messaging_hours (tenant_id, channel_id, hour, agent_id, inbound, outbound, human_agent, template)
SELECT tenant_id, channel_id, messaging_hour(sent_at), COALESCE(sender_user_id, 0),
       count(*) FILTER (WHERE direction = 'inbound'),
       count(*) FILTER (WHERE direction = 'outbound'),
       count(*) FILTER (WHERE direction = 'outbound' AND extra ->> 'send_mode' = 'human_agent'),
       count(*) FILTER (WHERE direction = 'outbound' AND (kind = 'template' OR extra ->> 'send_mode' = 'template'))
  FROM messages
 GROUP BY 1, 2, 3, 4;

INSERT INTO conversation_episodes
       (tenant_id, channel_id, conversation_id, opened_at, first_response_at, first_responder_id,
        resolved_at, resolved_by)
SELECT c.tenant_id, c.channel_id, c.id, f.opened_at, r.sent_at, r.sender_user_id,
       CASE WHEN c.status = 'resolved' THEN c.updated_at END,
       CASE WHEN c.status = 'resolved' THEN c.assignee_id END
  FROM conversations c
  JOIN LATERAL (SELECT min(sent_at) AS opened_at FROM messages
                 WHERE conversation_id = c.id AND direction = 'inbound') f ON f.opened_at IS NOT NULL
  LEFT JOIN LATERAL (SELECT sent_at, sender_user_id FROM messages
                      WHERE conversation_id = c.id AND direction = 'outbound' AND sent_at >= f.opened_at
                      ORDER BY sent_at LIMIT 1) r ON TRUE;
