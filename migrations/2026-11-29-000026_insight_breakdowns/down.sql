DROP TABLE insight_breakdowns;
