DROP TABLE message_templates;
DROP TABLE comments;
DROP TABLE pending_message_events;
DROP TABLE message_reactions;
DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE contacts;
