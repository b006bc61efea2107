DROP TABLE comment_syncs;
DROP TABLE comment_posts;
