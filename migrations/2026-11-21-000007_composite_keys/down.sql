DROP INDEX webhook_items_attention_idx;
CREATE INDEX webhook_items_state_idx ON webhook_items (state, id DESC);

ALTER TABLE webhook_items
    DROP CONSTRAINT webhook_items_channel_fkey,
    ADD CONSTRAINT webhook_items_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE SET NULL,
    ADD CONSTRAINT webhook_items_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE SET NULL;
ALTER TABLE channels DROP CONSTRAINT channels_identity_key;

ALTER TABLE messages
    DROP CONSTRAINT messages_conversation_fkey,
    ADD CONSTRAINT messages_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    ADD CONSTRAINT messages_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES conversations (id) ON DELETE CASCADE,
    ADD CONSTRAINT messages_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE;
ALTER TABLE conversations DROP CONSTRAINT conversations_identity_key;
