DROP TABLE history_imports;
ALTER TABLE conversations DROP COLUMN history_limited;
ALTER TABLE messages DROP COLUMN imported;
DROP INDEX channels_token_expiry_idx;
ALTER TABLE channels DROP COLUMN login, DROP COLUMN token_expires_at, DROP COLUMN token_refreshed_at;
DELETE FROM oauth_states WHERE purpose = 'instagram';
ALTER TABLE oauth_states DROP CONSTRAINT oauth_states_purpose_check,
    ADD CONSTRAINT oauth_states_purpose_check CHECK (purpose IN ('meta', 'whatsapp'));
