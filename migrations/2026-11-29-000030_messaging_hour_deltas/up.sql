-- Counting a message into `messaging_hours` in the transaction that writes it made concurrent
-- webhook batches of one channel wait on the same hourly row (webhook-to-message p99 went from
-- 0.1 s to 2.3 s in `parley bench webhooks`). Messages now append their counts here, without
-- conflicts, and a job folds them into `messaging_hours` every minute; the pages read both.
CREATE TABLE messaging_hour_deltas (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id  BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    hour        TIMESTAMPTZ NOT NULL,
    agent_id    BIGINT NOT NULL DEFAULT 0,
    inbound     INTEGER NOT NULL DEFAULT 0,
    outbound    INTEGER NOT NULL DEFAULT 0,
    human_agent INTEGER NOT NULL DEFAULT 0,
    template    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messaging_hour_deltas_tenant_idx ON messaging_hour_deltas (tenant_id, hour);

CREATE OR REPLACE FUNCTION messages_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO messaging_hour_deltas
           (tenant_id, channel_id, hour, agent_id, inbound, outbound, human_agent, template)
    SELECT tenant_id, channel_id, messaging_hour(sent_at), COALESCE(sender_user_id, 0),
           count(*) FILTER (WHERE direction = 'inbound'),
           count(*) FILTER (WHERE direction = 'outbound'),
           count(*) FILTER (WHERE direction = 'outbound' AND extra ->> 'send_mode' = 'human_agent'),
           count(*) FILTER (WHERE direction = 'outbound'
                              AND (kind = 'template' OR extra ->> 'send_mode' = 'template'))
      FROM new_messages
     GROUP BY 1, 2, 3, 4;

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

CREATE OR REPLACE FUNCTION messages_uncounted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO messaging_hour_deltas
           (tenant_id, channel_id, hour, agent_id, inbound, outbound, human_agent, template)
    SELECT tenant_id, channel_id, messaging_hour(sent_at), COALESCE(sender_user_id, 0),
           -count(*) FILTER (WHERE direction = 'inbound'),
           -count(*) FILTER (WHERE direction = 'outbound'),
           -count(*) FILTER (WHERE direction = 'outbound' AND extra ->> 'send_mode' = 'human_agent'),
           -count(*) FILTER (WHERE direction = 'outbound'
                               AND (kind = 'template' OR extra ->> 'send_mode' = 'template'))
      FROM old_messages
     GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END $$;
