-- One row per sign-in, so a session can be ended on the server: by signing out, by "sign out
-- everywhere", by a password change or a deactivation. The cookie holds a random token; only its
-- SHA-256 is stored, so a copy of this table signs nobody in.
CREATE TABLE user_sessions (
    id            BIGSERIAL PRIMARY KEY,
    tenant_id     BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash    BYTEA NOT NULL UNIQUE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    ended_at      TIMESTAMPTZ,
    end_reason    TEXT,
    user_agent    TEXT
);
-- The user's open sessions (ending them all, listing them on the account page).
CREATE INDEX user_sessions_user_open_idx ON user_sessions (user_id) WHERE ended_at IS NULL;
