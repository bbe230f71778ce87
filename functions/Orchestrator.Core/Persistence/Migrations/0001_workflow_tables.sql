-- Runs and their steps. Names are a contract: the runbook queries workflow_states directly.
CREATE TABLE workflow_states (
    id                 text PRIMARY KEY,
    definition_name    text        NOT NULL,
    definition_version integer     NOT NULL,
    definition         jsonb       NOT NULL,
    status             text        NOT NULL CHECK (status IN ('Pending', 'Running', 'Completed', 'Failed', 'Cancelled')),
    input              jsonb       NOT NULL,
    output             jsonb,
    error              text,
    retry_of           text        REFERENCES workflow_states (id),
    idempotency_key    text        UNIQUE,
    tokens_in          bigint      NOT NULL DEFAULT 0,
    tokens_out         bigint      NOT NULL DEFAULT 0,
    cost_usd           numeric(18, 6) NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    last_checkpoint    timestamptz,
    completed_at       timestamptz
);

CREATE INDEX workflow_states_status_checkpoint ON workflow_states (status, last_checkpoint);
CREATE INDEX workflow_states_retry_of ON workflow_states (retry_of) WHERE retry_of IS NOT NULL;

CREATE TABLE workflow_steps (
    id           bigserial PRIMARY KEY,
    run_id       text        NOT NULL REFERENCES workflow_states (id) ON DELETE CASCADE,
    step_id      text        NOT NULL,
    iteration    integer     NOT NULL DEFAULT 0,
    attempt      integer     NOT NULL DEFAULT 1,
    step_type    text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('Running', 'Completed', 'Failed', 'Skipped', 'Waiting')),
    output       text,
    tokens_in    integer     NOT NULL DEFAULT 0,
    tokens_out   integer     NOT NULL DEFAULT 0,
    cost_usd     numeric(18, 6) NOT NULL DEFAULT 0,
    provider     text,
    model        text,
    latency_ms   integer,
    started_at   timestamptz,
    completed_at timestamptz,
    error        text,
    reused_from  text,
    CONSTRAINT workflow_steps_run_step_iteration UNIQUE (run_id, step_id, iteration)
);
