DROP TABLE comment_actions;
