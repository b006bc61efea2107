-- The library's language filter lists the languages a tenant's templates use: a walk of this
-- index that jumps from one language to the next (a handful of reads, not one per template;
-- `parley bench templates` has 50,000 templates).
CREATE INDEX message_templates_languages_idx ON message_templates (tenant_id, language);
