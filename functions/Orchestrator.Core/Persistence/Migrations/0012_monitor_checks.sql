-- The failure-rate monitor counts the runs that finished within its window, every minute: by completion time.
CREATE INDEX workflow_states_finished ON workflow_states (completed_at) WHERE status IN ('Completed', 'Failed', 'Cancelled');
