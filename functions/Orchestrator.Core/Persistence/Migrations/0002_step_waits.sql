-- Approval steps wait for an event: record what they wait for and until when, and a timed-out outcome.
ALTER TABLE workflow_steps ADD COLUMN wait_event text;
ALTER TABLE workflow_steps ADD COLUMN wait_until timestamptz;
ALTER TABLE workflow_steps DROP CONSTRAINT workflow_steps_status_check;
ALTER TABLE workflow_steps ADD CONSTRAINT workflow_steps_status_check
    CHECK (status IN ('Running', 'Completed', 'Failed', 'Skipped', 'Waiting', 'TimedOut'));
