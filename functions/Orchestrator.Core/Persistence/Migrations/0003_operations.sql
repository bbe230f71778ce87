-- Cluster-wide operational state: every instance reads it, so an admin action through one instance is obeyed by all.
CREATE TABLE settings (
    key        text PRIMARY KEY,
    value      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text
);

-- Who did what through /admin/*: the actor is the admin token or an API key's name, never a secret.
CREATE TABLE admin_audit (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text        NOT NULL,
    action  text        NOT NULL,
    target  text,
    changed boolean     NOT NULL,
    detail  jsonb
);
CREATE INDEX admin_audit_at ON admin_audit (at DESC);

-- One row per LLM circuit breaker; a reset bumps reset_generation and every instance closes its breaker.
CREATE TABLE circuit_breakers (
    name             text PRIMARY KEY,
    reset_generation bigint      NOT NULL DEFAULT 0,
    reset_at         timestamptz,
    reset_by         text,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- Failed attempts per step (a retried step that later completes still counts its failures).
ALTER TABLE workflow_steps ADD COLUMN failed_attempts integer NOT NULL DEFAULT 0;
CREATE INDEX workflow_steps_failed ON workflow_steps (step_type, failed_attempts) WHERE failed_attempts > 0;

-- The run list is newest first, keyset-paginated on (created_at, id), optionally by status or definition.
CREATE INDEX workflow_states_created ON workflow_states (created_at DESC, id DESC);
CREATE INDEX workflow_states_status_created ON workflow_states (status, created_at DESC, id DESC);
CREATE INDEX workflow_states_definition_created ON workflow_states (definition_name, created_at DESC, id DESC);
