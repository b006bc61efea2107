-- A bulk run's refusals are its failed actions (comment_actions.bulk_run_id): the counter was a
-- second record of the same fact, and nothing read it.
ALTER TABLE comment_bulk_runs DROP COLUMN refused;
