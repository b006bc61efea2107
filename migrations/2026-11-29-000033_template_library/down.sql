DROP TABLE template_events;
DROP INDEX message_templates_poll_idx;
DROP INDEX message_templates_search_idx;
DROP INDEX message_templates_library_idx;
DROP INDEX message_templates_key;
ALTER TABLE message_templates
    DROP COLUMN search, DROP COLUMN poll_after, DROP COLUMN polled_at, DROP COLUMN deleted_at,
    DROP COLUMN submitted_at, DROP COLUMN status_at, DROP COLUMN updated_at,
    DROP COLUMN created_by, DROP COLUMN content, DROP COLUMN parameter_format;
DELETE FROM message_templates WHERE platform_template_id IS NULL;
ALTER TABLE message_templates ALTER COLUMN platform_template_id SET NOT NULL;
