-- Monitors and incidents. Times are the monitoring instance's clock (passed in, so the lifecycle can be tested with a
-- fake clock); every instance's clock is assumed to be NTP-close.

-- One row per condition a check watches (dedup key): the damping state between checks, so any instance that runs the
-- check next carries on where the last one stopped. pending_since: the first firing reading of the current episode
-- (cleared only after the condition has stayed clear); clear_since / clear_checks: how long and how many checks in a
-- row it has been clear.
CREATE TABLE monitor_conditions (
    dedup_key       text PRIMARY KEY,
    check_name      text        NOT NULL,
    firing          boolean     NOT NULL,
    pending_since   timestamptz,
    last_firing_at  timestamptz,
    clear_since     timestamptz,
    clear_checks    integer     NOT NULL DEFAULT 0,
    last_checked_at timestamptz NOT NULL,
    last_reading    jsonb
);

-- Written on the primary by the replica-lag check and read back on the replica: a stream that has stopped cannot
-- pass for one that is caught up.
CREATE TABLE monitor_heartbeat (
    id         smallint PRIMARY KEY CHECK (id = 1),
    sequence   bigint      NOT NULL,
    written_at timestamptz NOT NULL,
    written_by text        NOT NULL
);

-- severity P0..P3 (the runbook's table); status open -> acknowledged -> resolved. At most one unresolved incident per
-- dedup key: opening is an INSERT that a second instance's identical INSERT cannot duplicate.
CREATE TABLE incidents (
    id              uuid PRIMARY KEY,
    dedup_key       text        NOT NULL,
    check_name      text        NOT NULL,
    severity        text        NOT NULL CHECK (severity IN ('P0', 'P1', 'P2', 'P3')),
    status          text        NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    title           text        NOT NULL,
    impact          text        NOT NULL,
    summary         text        NOT NULL,
    next_step       text        NOT NULL,
    facts           jsonb       NOT NULL DEFAULT '{}',
    rto_seconds     integer     NOT NULL,
    started_at      timestamptz NOT NULL,
    opened_at       timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    last_notice_at  timestamptz NOT NULL,
    updates_sent    integer     NOT NULL DEFAULT 0,
    escalated_at    timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by text,
    resolved_at     timestamptz,
    resolved_by     text,
    resolution      text
);
CREATE UNIQUE INDEX incidents_one_unresolved_per_key ON incidents (dedup_key) WHERE status <> 'resolved';
CREATE INDEX incidents_opened ON incidents (opened_at DESC, id DESC);
CREATE INDEX incidents_unresolved ON incidents (severity) WHERE status <> 'resolved';

-- The timeline: every state change of an incident (opened, updated, escalated, acknowledged, resolved), with who.
CREATE TABLE incident_events (
    id          bigserial PRIMARY KEY,
    incident_id uuid        NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    kind        text        NOT NULL,
    actor       text        NOT NULL,
    detail      jsonb
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);

-- The notice ledger: one row per notice and channel, written in the same transaction as the incident change that
-- calls for it and before anything is sent. kind detected/update/escalation/resolved; sequence numbers the updates
-- (0 for the others). Per channel, notices go out in id order, one at a time, each claimed by one sender with a
-- lease; status pending -> sent | rejected (a permanent refusal by the receiver, not retried).
CREATE TABLE incident_notices (
    id               bigserial PRIMARY KEY,
    incident_id      uuid        NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    kind             text        NOT NULL CHECK (kind IN ('detected', 'update', 'escalation', 'resolved')),
    sequence         integer     NOT NULL,
    channel          text        NOT NULL,
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'rejected')),
    content          jsonb       NOT NULL,
    created_at       timestamptz NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    attempts         integer     NOT NULL DEFAULT 0,
    claimed_by       text,
    claim_expires_at timestamptz,
    last_status_code integer,
    last_error       text,
    sent_at          timestamptz,
    UNIQUE (incident_id, kind, sequence, channel)
);
CREATE INDEX incident_notices_pending ON incident_notices (channel, id) WHERE status = 'pending';
CREATE INDEX incident_notices_incident ON incident_notices (incident_id, id);
