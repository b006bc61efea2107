DROP TABLE webhook_items;
DROP TABLE webhook_events;
