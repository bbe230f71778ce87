-- The PostgreSQL durable backend (Orchestrator.Durable.Postgres): the task hub's instances, their history and the two
-- message queues, in a schema of its own. Designed for a busy table: every dequeue is an index range scan with
-- FOR UPDATE SKIP LOCKED; a lock is a column (an expiry and a token), never a row lock held across work; a message
-- is deleted when it has been handled, so the queues stay short and autovacuum has little to do.
CREATE SCHEMA IF NOT EXISTS durable;

-- One row per orchestration instance: its current execution and the state the status and list queries read.
-- locked_until / lock_owner / lock_token: the worker running an episode of it; '-infinity' when nobody is.
CREATE TABLE durable.instances (
    instance_id        text PRIMARY KEY,
    execution_id       text NOT NULL,
    name               text NOT NULL,
    version            text,
    status             text NOT NULL,
    created_at         timestamptz NOT NULL,
    last_updated_at    timestamptz NOT NULL,
    completed_at       timestamptz,
    scheduled_start_at timestamptz,
    input              text,
    output             text,
    custom_status      text,
    failure            text,
    parent_instance    text,
    tags               text,
    locked_until       timestamptz NOT NULL DEFAULT '-infinity',
    lock_owner         text,
    lock_token         uuid
);
CREATE INDEX instances_created ON durable.instances (created_at, instance_id);
CREATE INDEX instances_status ON durable.instances (status, created_at);
CREATE INDEX instances_lock_owner ON durable.instances (lock_owner) WHERE lock_owner IS NOT NULL;

-- The history of each instance's current execution, one event per row (DurableTask.Core's JSON).
CREATE TABLE durable.history (
    instance_id  text NOT NULL,
    execution_id text NOT NULL,
    sequence     integer NOT NULL,
    event        text NOT NULL,
    PRIMARY KEY (instance_id, execution_id, sequence)
);

-- Messages to orchestrations (started, task completed, timer fired, event raised, terminate, suspend, ...).
-- A timer's message becomes visible when it fires. An instance's messages are taken together, by whoever locks it.
CREATE TABLE durable.orchestration_messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance_id text NOT NULL,
    visible_at  timestamptz NOT NULL,
    message     text NOT NULL
);
CREATE INDEX orchestration_messages_visible ON durable.orchestration_messages (visible_at);
CREATE INDEX orchestration_messages_instance ON durable.orchestration_messages (instance_id, id);

-- Messages to activities. available_at is when the message may be taken: now when queued, the lock's expiry while
-- a worker holds it (renewed while the activity runs), so one index serves both the queue and lock expiry.
CREATE TABLE durable.activity_messages (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance_id   text NOT NULL,
    available_at  timestamptz NOT NULL,
    dequeue_count integer NOT NULL DEFAULT 0,
    lock_owner    text,
    lock_token    uuid,
    message       text NOT NULL
);
CREATE INDEX activity_messages_available ON durable.activity_messages (available_at, id);
CREATE INDEX activity_messages_instance ON durable.activity_messages (instance_id);
CREATE INDEX activity_messages_lock_owner ON durable.activity_messages (lock_owner) WHERE lock_owner IS NOT NULL;

-- The queues churn: vacuum them as soon as a few hundred rows are dead rather than at 20 % of the table.
ALTER TABLE durable.orchestration_messages SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 500);
ALTER TABLE durable.activity_messages SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 500);

-- The on-call engineer's read access on Azure, as 0014 gives for the product's other tables.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'azure_pg_admin') THEN
        GRANT USAGE ON SCHEMA durable TO azure_pg_admin;
        GRANT SELECT ON ALL TABLES IN SCHEMA durable TO azure_pg_admin;
        ALTER DEFAULT PRIVILEGES IN SCHEMA durable GRANT SELECT ON TABLES TO azure_pg_admin;
    END IF;
END
$$;

-- Saving an episode starts by checking, under the row's lock, that the worker still holds the instance: if its lock
-- expired and another worker took it, the save fails as a whole (SQLSTATE DT409) and changes nothing.
CREATE FUNCTION durable.hold_lock(p_instance_id text, p_lock_token uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM durable.instances WHERE instance_id = p_instance_id AND lock_token = p_lock_token FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the lock on orchestration % is no longer held', p_instance_id USING ERRCODE = 'DT409';
    END IF;
END
$$;
