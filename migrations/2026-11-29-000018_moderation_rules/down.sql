ALTER TABLE comment_actions
    DROP CONSTRAINT comment_actions_action_check,
    DROP COLUMN rule_id;
DELETE FROM comment_actions WHERE action NOT IN ('hide', 'unhide', 'delete', 'reply');
ALTER TABLE comment_actions
    ADD CONSTRAINT comment_actions_action_check CHECK (action IN ('hide', 'unhide', 'delete', 'reply'));
ALTER TABLE comments
    DROP COLUMN rules_checked_at,
    DROP COLUMN rule_id,
    DROP COLUMN replied_publicly_at,
    DROP COLUMN replied_privately_at,
    DROP COLUMN conversation_id,
    DROP COLUMN liked_at;
DROP TABLE moderation_rules;
