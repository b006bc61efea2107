DROP TABLE send_budgets;
