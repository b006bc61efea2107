DROP INDEX contacts_profile_due_idx;
