-- The providers of a step's fallback chain that did not serve it, and why: [{"provider", "model", "reason"}].
ALTER TABLE workflow_steps ADD COLUMN skipped_providers jsonb;
