-- Fewer index entries and less JSON per webhook event: these writes are what processing a
-- delivery costs, and on a small machine processing shares the CPU with acknowledging Meta.

-- Unused since messages reach their tenant through the composite key on conversations (000007):
-- tenant-scoped message queries also name the conversation or go through the search index.
DROP INDEX messages_tenant_conversation_idx;

-- One index serves both the one-conversation-per-contact rule and lookups by contact (a
-- cascade from contacts), where there were two; every new message updates its conversation,
-- and an update that moves it in the lists writes an entry into each of its indexes.
ALTER TABLE conversations DROP CONSTRAINT conversations_channel_id_contact_id_key;
ALTER TABLE conversations ADD CONSTRAINT conversations_contact_channel_key UNIQUE (contact_id, channel_id);
DROP INDEX conversations_contact_idx;

-- An item keeps its own copy of its JSON only while it may still be processed (pending,
-- failed, unrouted, dead); once processed or ignored, the raw delivery in webhook_events is the
-- one copy, and the item's part is split from it again when someone opens or replays it.
ALTER TABLE webhook_items ALTER COLUMN body DROP NOT NULL;
