ALTER TABLE comment_actions DROP COLUMN bulk_run_id;
DROP TABLE comment_bulk_runs;
