-- The template library: templates written in Parley (drafts and the team's approval) and the
-- ones synced from Meta, one row per WhatsApp Business Account, name and language, with the
-- history of every step.

-- Copies recorded twice under one name and language (before this key existed) keep the newest.
DELETE FROM message_templates a USING message_templates b
 WHERE a.tenant_id = b.tenant_id AND a.waba_id = b.waba_id AND a.name = b.name
   AND a.language = b.language AND a.id < b.id;

ALTER TABLE message_templates
    -- Drafts have no id at Meta yet.
    ALTER COLUMN platform_template_id DROP NOT NULL,
    ADD COLUMN parameter_format TEXT NOT NULL DEFAULT 'positional'
        CHECK (parameter_format IN ('positional', 'named')),
    -- Header, body, footer, buttons and examples (`message_templates::content`).
    ADD COLUMN content JSONB NOT NULL DEFAULT '{}',
    ADD COLUMN created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- When Meta's event that set `status` happened: older events never move it back.
    ADD COLUMN status_at TIMESTAMPTZ,
    ADD COLUMN submitted_at TIMESTAMPTZ,
    -- Deleted at Meta: the name and language cannot be used again for 30 days.
    ADD COLUMN deleted_at TIMESTAMPTZ,
    -- The reconciliation poll: when it last asked Meta, and when it asks next.
    ADD COLUMN polled_at TIMESTAMPTZ,
    ADD COLUMN poll_after TIMESTAMPTZ,
    ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple',
        replace(name, '_', ' ') || ' ' || coalesce(content ->> 'body', ''))) STORED;

CREATE UNIQUE INDEX message_templates_key
    ON message_templates (tenant_id, waba_id, name, language);
CREATE INDEX message_templates_library_idx
    ON message_templates (tenant_id, updated_at DESC, id DESC);
CREATE INDEX message_templates_search_idx ON message_templates USING gin (search);
-- Templates the poll should look at (still under review, or not heard of for a while).
CREATE INDEX message_templates_poll_idx ON message_templates (poll_after)
    WHERE poll_after IS NOT NULL;

-- Who did what to a template, when, and where a status came from.
CREATE TABLE template_events (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    template_id BIGINT NOT NULL REFERENCES message_templates (id) ON DELETE CASCADE,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    source      TEXT NOT NULL CHECK (source IN ('team', 'webhook', 'poll', 'sync', 'meta')),
    kind        TEXT NOT NULL CHECK (kind IN ('created', 'edited', 'approval_requested',
                    'sent_back', 'approved', 'submitted', 'submit_failed', 'status', 'quality',
                    'category', 'deleted', 'duplicated')),
    from_value  TEXT,
    to_value    TEXT,
    comment     TEXT
);
CREATE INDEX template_events_template_idx ON template_events (template_id, at DESC, id DESC);
