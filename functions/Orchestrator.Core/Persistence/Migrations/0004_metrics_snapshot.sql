-- The cluster-wide run counts behind /metrics, computed by one instance per cache period and read by all, so the
-- COUNT over workflow_states runs once per period however many instances are scraped.
CREATE TABLE metrics_snapshot (
    name        text PRIMARY KEY,
    value       jsonb       NOT NULL,
    computed_at timestamptz NOT NULL,
    computed_by text
);
