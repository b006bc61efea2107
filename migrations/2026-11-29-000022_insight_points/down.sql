DROP TABLE insight_refusals;
DROP TABLE insight_points;
