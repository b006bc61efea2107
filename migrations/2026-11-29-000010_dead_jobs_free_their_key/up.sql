-- A dead job no longer holds its dedupe key: a periodic job that died (Meta or the database down
-- for a while) must not stop every later period from being enqueued. At most one *live* job per key.
DROP INDEX jobs_dedupe_key;
CREATE UNIQUE INDEX jobs_dedupe_key ON jobs (dedupe_key) WHERE dedupe_key IS NOT NULL AND state <> 'dead';
-- Dead jobs by kind, for /metrics and the admins' notice of failed periodic work.
CREATE INDEX jobs_dead_idx ON jobs (kind, updated_at DESC) WHERE state = 'dead';
