-- The reconciler's bookkeeping: which task hub runs a run's orchestration (several deployments may share one
-- database, and each reconciles only its own runs), and when it last compared the run with its durable status
-- (unfinished runs are visited oldest-checked first, so every one is seen in turn however many there are).
ALTER TABLE workflow_states ADD COLUMN task_hub text, ADD COLUMN reconciled_at timestamptz;

CREATE INDEX workflow_states_unfinished ON workflow_states (task_hub, reconciled_at NULLS FIRST, created_at)
    WHERE status IN ('Pending', 'Running');
