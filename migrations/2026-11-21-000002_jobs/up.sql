-- One queue for all slow or retryable work, shared by every Parley process.
CREATE TABLE jobs (
    id            BIGSERIAL PRIMARY KEY,
    -- NULL for work that is not one tenant's (e.g. a sweep over every channel).
    tenant_id     BIGINT REFERENCES tenants (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    payload       JSONB NOT NULL DEFAULT '{}'::jsonb,
    state         TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'dead')),
    run_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL DEFAULT 8 CHECK (max_attempts > 0),
    locked_until  TIMESTAMPTZ,
    locked_by     TEXT,
    last_error    TEXT,
    -- At most one live job per key: periodic runs and per-object work are enqueued idempotently.
    dedupe_key    TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX jobs_dedupe_key ON jobs (dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX jobs_ready_idx ON jobs (run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_leased_idx ON jobs (locked_until) WHERE state = 'running';
CREATE INDEX jobs_tenant_idx ON jobs (tenant_id, state, id);
