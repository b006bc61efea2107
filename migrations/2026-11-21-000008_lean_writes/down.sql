-- Items settled without a copy of their JSON get an empty object (their delivery keeps it).
UPDATE webhook_items SET body = '{}'::jsonb WHERE body IS NULL;
ALTER TABLE webhook_items ALTER COLUMN body SET NOT NULL;

CREATE INDEX conversations_contact_idx ON conversations (contact_id);
ALTER TABLE conversations DROP CONSTRAINT conversations_contact_channel_key;
ALTER TABLE conversations ADD CONSTRAINT conversations_channel_id_contact_id_key UNIQUE (channel_id, contact_id);

CREATE INDEX messages_tenant_conversation_idx ON messages (tenant_id, conversation_id);
