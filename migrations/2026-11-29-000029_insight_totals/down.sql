DROP TABLE insight_totals;
