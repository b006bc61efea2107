DROP TABLE periodic_runs;
DROP TABLE connect_sessions;
DROP TABLE oauth_states;
DROP TABLE channels;
