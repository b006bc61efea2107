DROP INDEX jobs_dead_idx;
DROP INDEX jobs_dedupe_key;
-- Keep the newest job of each key before restoring the stricter index.
DELETE FROM jobs j USING jobs k
 WHERE j.dedupe_key = k.dedupe_key AND j.id < k.id;
CREATE UNIQUE INDEX jobs_dedupe_key ON jobs (dedupe_key) WHERE dedupe_key IS NOT NULL;
