-- The ledger: every signed POST from Meta, stored exactly as received before it is acknowledged.
CREATE TABLE webhook_events (
    id            BIGSERIAL PRIMARY KEY,
    received_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- "page", "instagram", "whatsapp_business_account"; NULL when the body is not JSON.
    object        TEXT,
    body          BYTEA NOT NULL,
    signature_ok  BOOLEAN NOT NULL,
    -- received -> split (items created) | failed (not the expected JSON) ; dead after retries.
    state         TEXT NOT NULL DEFAULT 'received'
                  CHECK (state IN ('received', 'split', 'failed', 'dead')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    locked_until  TIMESTAMPTZ,
    locked_by     TEXT,
    processed_at  TIMESTAMPTZ
);
CREATE INDEX webhook_events_pending_idx ON webhook_events (id) WHERE state = 'received';

-- One item per routing unit of a delivery (a Page/IG entry, or one WhatsApp change), so each
-- tenant sees only its own part of a batch and each part has its own fate.
CREATE TABLE webhook_items (
    id            BIGSERIAL PRIMARY KEY,
    event_id      BIGINT NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    object        TEXT NOT NULL,
    -- Page id, IG account id, WhatsApp phone number id (or WABA id for account-level fields).
    account_id    TEXT NOT NULL,
    tenant_id     BIGINT REFERENCES tenants (id) ON DELETE SET NULL,
    channel_id    BIGINT REFERENCES channels (id) ON DELETE SET NULL,
    kind          TEXT NOT NULL,
    body          JSONB NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'processed', 'ignored', 'unrouted', 'failed', 'dead')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    locked_until  TIMESTAMPTZ,
    locked_by     TEXT,
    last_error    TEXT,
    -- The event's own time (Meta's timestamp), not arrival: for ordering and display.
    occurred_at   TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    processed_at  TIMESTAMPTZ,
    UNIQUE (event_id, position)
);
CREATE INDEX webhook_items_ready_idx ON webhook_items (next_attempt_at, id) WHERE state IN ('pending', 'failed');
CREATE INDEX webhook_items_unrouted_idx ON webhook_items (object, account_id) WHERE state = 'unrouted';
CREATE INDEX webhook_items_tenant_idx ON webhook_items (tenant_id, id DESC);
CREATE INDEX webhook_items_state_idx ON webhook_items (state, id DESC);
