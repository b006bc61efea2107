DROP TABLE insight_backfills;
