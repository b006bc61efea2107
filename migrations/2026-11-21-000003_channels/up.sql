-- Connected Meta assets: a Facebook Page (Messenger), an Instagram professional account, or a
-- WhatsApp Business phone number.
CREATE TABLE channels (
    id                   BIGSERIAL PRIMARY KEY,
    tenant_id            BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    platform             TEXT NOT NULL CHECK (platform IN ('messenger', 'instagram', 'whatsapp')),
    -- Page id, Instagram account id, or WhatsApp phone number id: how webhooks are routed.
    platform_id          TEXT NOT NULL,
    name                 TEXT NOT NULL,
    username             TEXT,
    picture_url          TEXT,
    -- The Page whose token and Send API serve this channel (Messenger and Instagram).
    page_id              TEXT,
    waba_id              TEXT,
    display_phone_number TEXT,
    -- AES-256-GCM ciphertext (nonce || ciphertext || tag) and the id of the key that made it.
    -- NULL once disconnected: the token is wiped.
    token_ciphertext     BYTEA,
    token_key_id         TEXT,
    status               TEXT NOT NULL DEFAULT 'connected' CHECK (status IN ('connected', 'disconnected')),
    -- True when Meta stopped accepting the token (not when an admin disconnected on purpose).
    needs_reconnect      BOOLEAN NOT NULL DEFAULT FALSE,
    subscribed_fields    TEXT[] NOT NULL DEFAULT '{}',
    connected_by         BIGINT REFERENCES users (id) ON DELETE SET NULL,
    connected_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_verified_at     TIMESTAMPTZ,
    disconnected_at      TIMESTAMPTZ,
    disconnected_reason  TEXT,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT channels_token_pair CHECK ((token_ciphertext IS NULL) = (token_key_id IS NULL))
);
-- Reconnecting updates a tenant's row in place (its history stays attached to it)...
CREATE UNIQUE INDEX channels_tenant_platform_key ON channels (tenant_id, platform, platform_id);
-- ...and a Meta asset is connected to one tenant at a time, so webhooks route to exactly one place.
CREATE UNIQUE INDEX channels_connected_key ON channels (platform, platform_id) WHERE status = 'connected';
CREATE INDEX channels_tenant_idx ON channels (tenant_id, status);

-- OAuth `state` values: random, bound to a session, tenant and user, single-use, short-lived.
CREATE TABLE oauth_states (
    state_hash   TEXT PRIMARY KEY,
    tenant_id    BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL CHECK (purpose IN ('meta', 'whatsapp')),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL,
    used_at      TIMESTAMPTZ
);

-- What Meta returned after consent, kept (encrypted) while the admin picks what to connect.
CREATE TABLE connect_sessions (
    id              TEXT PRIMARY KEY,
    tenant_id       BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('meta', 'whatsapp')),
    payload         BYTEA NOT NULL,
    payload_key_id  TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX connect_sessions_expiry_idx ON connect_sessions (expires_at);

-- One row per periodic job per period: the scheduler of every process races to insert it, and
-- only the winner enqueues the job, so exactly one run happens per period.
CREATE TABLE periodic_runs (
    name          TEXT NOT NULL,
    period_start  TIMESTAMPTZ NOT NULL,
    enqueued_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (name, period_start)
);
