-- Fold what is pending, then count in place again.
INSERT INTO messaging_hours AS h (tenant_id, channel_id, hour, agent_id, inbound, outbound, human_agent, template)
SELECT tenant_id, channel_id, hour, agent_id, sum(inbound), sum(outbound), sum(human_agent), sum(template)
  FROM messaging_hour_deltas GROUP BY 1, 2, 3, 4
ON CONFLICT (channel_id, hour, agent_id) DO UPDATE
   SET inbound = h.inbound + excluded.inbound, outbound = h.outbound + excluded.outbound,
       human_agent = h.human_agent + excluded.human_agent, template = h.template + excluded.template;
DROP TABLE messaging_hour_deltas;

CREATE OR REPLACE FUNCTION messages_counted() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION messages_uncounted() RETURNS trigger LANGUAGE plpgsql AS $$
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
