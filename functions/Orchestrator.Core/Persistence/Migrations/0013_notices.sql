-- When a notice was last tried (sent, deferred or rejected): a rejection's time for /health ("rejected within the
-- last 24 h") and the incident timeline.
ALTER TABLE incident_notices ADD COLUMN last_attempt_at timestamptz;
CREATE INDEX incident_notices_rejected ON incident_notices (last_attempt_at) WHERE status = 'rejected';
