-- Customers as a channel knows them: PSID (Messenger), IGSID (Instagram), wa_id/BSUID (WhatsApp).
CREATE TABLE contacts (
    id                 BIGSERIAL PRIMARY KEY,
    tenant_id          BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id         BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    platform_user_id   TEXT NOT NULL,
    name               TEXT,
    username           TEXT,
    picture_url        TEXT,
    profile_fetched_at TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (channel_id, platform_user_id)
);
CREATE INDEX contacts_tenant_idx ON contacts (tenant_id, id);

-- One conversation per channel and customer.
CREATE TABLE conversations (
    id                  BIGSERIAL PRIMARY KEY,
    tenant_id           BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id          BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    contact_id          BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    status              TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'pending', 'snoozed', 'resolved')),
    assignee_id         BIGINT REFERENCES users (id) ON DELETE SET NULL,
    snoozed_until       TIMESTAMPTZ,
    last_message_at     TIMESTAMPTZ,
    -- The customer's last message: the messaging window is measured from it.
    last_inbound_at     TIMESTAMPTZ,
    last_message_preview TEXT,
    unread_count        INTEGER NOT NULL DEFAULT 0,
    -- Receipt watermarks: everything outbound at or before them is delivered/read, including
    -- messages that arrive later than the receipt.
    delivered_watermark TIMESTAMPTZ,
    read_watermark      TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (channel_id, contact_id)
);
CREATE INDEX conversations_list_idx ON conversations (tenant_id, last_message_at DESC, id DESC);

CREATE TABLE messages (
    id                   BIGSERIAL PRIMARY KEY,
    tenant_id            BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id      BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    channel_id           BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    direction            TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    -- mid / wamid; unique per channel so a redelivered webhook never adds a second message.
    platform_message_id  TEXT,
    -- The platform's own time of the message (ordering), not arrival.
    sent_at              TIMESTAMPTZ NOT NULL,
    kind                 TEXT NOT NULL,
    text                 TEXT,
    attachments          JSONB NOT NULL DEFAULT '[]'::jsonb,
    reply_to_platform_id TEXT,
    referral             JSONB,
    extra                JSONB NOT NULL DEFAULT '{}'::jsonb,
    -- Sent from another Meta tool (an echo of a message Parley did not send).
    is_echo              BOOLEAN NOT NULL DEFAULT FALSE,
    sender_user_id       BIGINT REFERENCES users (id) ON DELETE SET NULL,
    status               TEXT NOT NULL DEFAULT 'received'
                         CHECK (status IN ('received', 'sending', 'sent', 'delivered', 'read', 'failed')),
    status_at            TIMESTAMPTZ,
    error                JSONB,
    deleted_at           TIMESTAMPTZ,
    edited_at            TIMESTAMPTZ,
    edit_count           INTEGER NOT NULL DEFAULT 0,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX messages_platform_key ON messages (channel_id, platform_message_id) WHERE platform_message_id IS NOT NULL;
CREATE INDEX messages_conversation_idx ON messages (conversation_id, sent_at, id);

CREATE TABLE message_reactions (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    message_id  BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    -- 'customer' or 'business'
    reactor     TEXT NOT NULL,
    emoji       TEXT NOT NULL,
    reaction    TEXT,
    reacted_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (message_id, reactor)
);

-- Receipts (and reactions/edits) that name a message Parley does not have yet: applied when it
-- arrives, so ordering of deliveries never loses one.
CREATE TABLE pending_message_events (
    id                  BIGSERIAL PRIMARY KEY,
    tenant_id           BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id          BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    platform_message_id TEXT NOT NULL,
    event               JSONB NOT NULL,
    occurred_at         TIMESTAMPTZ NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX pending_message_events_idx ON pending_message_events (channel_id, platform_message_id);

-- Comments on Facebook posts and Instagram media.
CREATE TABLE comments (
    id                  BIGSERIAL PRIMARY KEY,
    tenant_id           BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id          BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    platform_comment_id TEXT NOT NULL,
    post_id             TEXT,
    parent_comment_id   TEXT,
    author_id           TEXT,
    author_name         TEXT,
    text                TEXT,
    commented_at        TIMESTAMPTZ NOT NULL,
    hidden              BOOLEAN NOT NULL DEFAULT FALSE,
    deleted_at          TIMESTAMPTZ,
    edited_at           TIMESTAMPTZ,
    from_business       BOOLEAN NOT NULL DEFAULT FALSE,
    extra               JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (channel_id, platform_comment_id)
);
CREATE INDEX comments_tenant_idx ON comments (tenant_id, commented_at DESC, id DESC);

-- WhatsApp message templates as Meta reports them (the template library extends this).
CREATE TABLE message_templates (
    id                   BIGSERIAL PRIMARY KEY,
    tenant_id            BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    waba_id              TEXT NOT NULL,
    platform_template_id TEXT NOT NULL,
    name                 TEXT NOT NULL,
    language             TEXT NOT NULL,
    category             TEXT,
    status               TEXT NOT NULL,
    status_reason        TEXT,
    quality_score        TEXT,
    status_updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, platform_template_id)
);
