-- Send budgets shared by every worker process (GCRA): `next_at` is when the budget is back to
-- empty, so a send is allowed while next_at - (burst - 1) * interval <= now(). Keys name Meta's
-- accounts ("send:<account>:<kind>") or a WhatsApp number and customer pair ("pair:...").
CREATE TABLE send_budgets (
    key      TEXT PRIMARY KEY,
    next_at  TIMESTAMPTZ NOT NULL
);
