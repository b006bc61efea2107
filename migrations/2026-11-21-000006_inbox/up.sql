-- The shared inbox: search, filters that stay fast with history, outbound sends, and the team's
-- own data about conversations (notes, labels, saved replies).

-- Full-text search over message text and contact names. 'simple' (no stemming) because
-- customers write in every language; queries use prefix matching instead.
ALTER TABLE messages
    ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(text, ''))) STORED;
CREATE INDEX messages_search_idx ON messages USING gin (search);
CREATE INDEX messages_tenant_conversation_idx ON messages (tenant_id, conversation_id);

ALTER TABLE contacts
    ADD COLUMN search tsvector GENERATED ALWAYS AS
        (to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(username, '') || ' ' || platform_user_id)) STORED;
CREATE INDEX contacts_search_idx ON contacts USING gin (search);
CREATE INDEX contacts_name_idx ON contacts (tenant_id, lower(name));
CREATE INDEX contacts_username_idx ON contacts (tenant_id, lower(username));

-- Outbound sends: when the current attempt started (a crash mid-call leaves it set, so Parley
-- never calls Meta twice for one attempt) and how many attempts an agent has asked for.
ALTER TABLE messages
    ADD COLUMN send_started_at TIMESTAMPTZ,
    ADD COLUMN send_attempts   INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_sending_idx ON messages (tenant_id, id) WHERE status IN ('sending', 'failed');

-- List filters: each keeps the newest-first keyset order so a page costs the same at any depth.
CREATE INDEX conversations_status_idx ON conversations (tenant_id, status, last_message_at DESC, id DESC);
CREATE INDEX conversations_assignee_idx ON conversations (tenant_id, assignee_id, last_message_at DESC, id DESC);
CREATE INDEX conversations_channel_idx ON conversations (channel_id, last_message_at DESC, id DESC);
CREATE INDEX conversations_unread_idx ON conversations (tenant_id, last_message_at DESC, id DESC) WHERE unread_count > 0;
CREATE INDEX conversations_contact_idx ON conversations (contact_id);

-- Private notes: visible only to the team, never sent to Meta.
CREATE TABLE conversation_notes (
    id              BIGSERIAL PRIMARY KEY,
    tenant_id       BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    author_id       BIGINT REFERENCES users (id) ON DELETE SET NULL,
    body            TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX conversation_notes_idx ON conversation_notes (conversation_id, created_at);

CREATE TABLE labels (
    id         BIGSERIAL PRIMARY KEY,
    tenant_id  BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX labels_name_idx ON labels (tenant_id, lower(name));

CREATE TABLE conversation_labels (
    tenant_id       BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    label_id        BIGINT NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, label_id)
);
CREATE INDEX conversation_labels_label_idx ON conversation_labels (label_id);

-- Canned responses: typed as "/shortcut" in the composer.
CREATE TABLE saved_replies (
    id         BIGSERIAL PRIMARY KEY,
    tenant_id  BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    shortcut   TEXT NOT NULL CHECK (shortcut ~ '^[a-z0-9_-]{1,30}$'),
    body       TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, shortcut)
);

-- Files agents attach: served to Meta (which fetches Messenger/Instagram attachments by URL)
-- under an unguessable token, and to the tenant's users like any other attachment.
CREATE TABLE outbound_media (
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    token        TEXT NOT NULL UNIQUE,
    file         TEXT NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
