DROP INDEX comment_posts_posted_idx;
ALTER TABLE comment_posts DROP COLUMN insights_at, DROP COLUMN insights_note;
DROP TABLE post_insights;
