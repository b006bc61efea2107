-- A bulk moderation run: many comments (chosen, or all matching a filter) hidden, unhidden,
-- deleted or marked reviewed by a job that works in chunks, saving its place after each, so a
-- large run never holds a request open and resumes after a restart.
CREATE TABLE comment_bulk_runs (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    action      TEXT NOT NULL CHECK (action IN ('hide', 'unhide', 'delete', 'reviewed')),
    -- `comments::bulk::BulkTarget`: the chosen ids or the filter, read and written whole.
    target      JSONB NOT NULL,
    state       TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
    -- Where the next chunk starts: (commented_at, id) of the last comment taken.
    cursor_at   TIMESTAMPTZ,
    cursor_id   BIGINT,
    total       INT NOT NULL,
    taken       INT NOT NULL DEFAULT 0,
    -- Refused before any call (already hidden, deleted, …); each has a failed action row.
    refused     INT NOT NULL DEFAULT 0,
    error       TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);
CREATE INDEX comment_bulk_runs_tenant_idx ON comment_bulk_runs (tenant_id, id DESC);

ALTER TABLE comment_actions ADD COLUMN bulk_run_id BIGINT REFERENCES comment_bulk_runs (id) ON DELETE SET NULL;
CREATE INDEX comment_actions_bulk_idx ON comment_actions (bulk_run_id) WHERE bulk_run_id IS NOT NULL;
