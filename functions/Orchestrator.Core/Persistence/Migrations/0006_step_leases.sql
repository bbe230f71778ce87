-- A step claim is a lease: the execution that holds it (lease_holder: instance id / process token / execution
-- token) renews lease_expires_at while its LLM call runs, and a second execution of the same activity waits for it
-- instead of calling again; a holder that stops renewing is taken over once the lease has lapsed.
-- reserved_tokens / reserved_cost_usd: the most the claimed call may spend, counted against the run's budget until
-- the step completes or fails (then its actual tokens count instead).
ALTER TABLE workflow_steps
    ADD COLUMN lease_holder      text,
    ADD COLUMN lease_expires_at  timestamptz,
    ADD COLUMN reserved_tokens   bigint         NOT NULL DEFAULT 0,
    ADD COLUMN reserved_cost_usd numeric(18, 6) NOT NULL DEFAULT 0;

-- Only running steps hold a lease: the release of a restarted instance's predecessors reads this small set.
CREATE INDEX workflow_steps_leases ON workflow_steps (lease_holder) WHERE lease_holder IS NOT NULL;
