-- Auto-moderation: a tenant's rules, tried in order on each new customer comment; the first that
-- matches acts. Conditions are the typed `comments::rules::Conditions`, kept as JSON because they
-- are read and written whole.
CREATE TABLE moderation_rules (
    id             BIGSERIAL PRIMARY KEY,
    tenant_id      BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name           TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    position       INT NOT NULL DEFAULT 0,
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    -- Whether every content condition must hold (all) or one is enough (any).
    match_all      BOOLEAN NOT NULL DEFAULT FALSE,
    conditions     JSONB NOT NULL,
    action         TEXT NOT NULL CHECK (action IN ('hide', 'delete', 'review', 'reply', 'private_reply')),
    saved_reply_id BIGINT REFERENCES saved_replies (id) ON DELETE SET NULL,
    created_by     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX moderation_rules_tenant_idx ON moderation_rules (tenant_id, position, id);

ALTER TABLE comments
    -- Set once, when the rules were tried: a redelivered comment is never tried again.
    ADD COLUMN rules_checked_at TIMESTAMPTZ,
    -- The rule that matched (and acted, unless its action was to mark for review).
    ADD COLUMN rule_id BIGINT REFERENCES moderation_rules (id) ON DELETE SET NULL,
    ADD COLUMN replied_publicly_at TIMESTAMPTZ,
    ADD COLUMN replied_privately_at TIMESTAMPTZ,
    -- The inbox conversation a private reply opened or joined.
    ADD COLUMN conversation_id BIGINT REFERENCES conversations (id) ON DELETE SET NULL,
    ADD COLUMN liked_at TIMESTAMPTZ;

ALTER TABLE comment_actions
    ADD COLUMN rule_id BIGINT REFERENCES moderation_rules (id) ON DELETE SET NULL,
    DROP CONSTRAINT comment_actions_action_check,
    ADD CONSTRAINT comment_actions_action_check
        CHECK (action IN ('hide', 'unhide', 'delete', 'reply', 'private_reply', 'like'));
