-- Every moderation action on a comment, from the request to Meta's answer: the pending work of
-- the queue's job, and the audit log moderators read.
CREATE TABLE comment_actions (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    comment_id  BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    action      TEXT NOT NULL CHECK (action IN ('hide', 'unhide', 'delete', 'reply')),
    -- A public reply's text.
    message     TEXT,
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    error       TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);
CREATE INDEX comment_actions_comment_idx ON comment_actions (tenant_id, comment_id, id DESC);
