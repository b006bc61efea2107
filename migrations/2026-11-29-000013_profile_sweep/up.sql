-- Contacts whose profile Parley has yet to fetch, per tenant: one sweep job per tenant reads them
-- here instead of one job row per new contact (a burst of new customers wrote both).
-- Contacts that arrive with a name (WhatsApp sends it with every message) need no fetch.
UPDATE contacts SET profile_fetched_at = created_at WHERE profile_fetched_at IS NULL AND name IS NOT NULL;
CREATE INDEX contacts_profile_due_idx ON contacts (tenant_id, id) WHERE profile_fetched_at IS NULL;
