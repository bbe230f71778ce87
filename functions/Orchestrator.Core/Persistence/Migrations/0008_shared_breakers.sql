-- The LLM circuit breakers become cluster-wide: one state per breaker for every instance, and a single half-open
-- probe claimed here with a lease. Times are the database's clock (instances' clocks may differ).
-- state: 0 closed, 1 open, 2 half-open (the metric's encoding). epoch moves on every open, close and reset, so
-- samples of an earlier epoch no longer count.
ALTER TABLE circuit_breakers
    ADD COLUMN state            smallint    NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),
    ADD COLUMN epoch            bigint      NOT NULL DEFAULT 0,
    ADD COLUMN opened_at        timestamptz,
    ADD COLUMN open_until       timestamptz,
    ADD COLUMN opened_by        text,
    ADD COLUMN reason           text,
    ADD COLUMN probe_holder     text,
    ADD COLUMN probe_expires_at timestamptz,
    ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now();

-- Call outcomes per breaker, epoch, instance (holder) and one-second bucket of the database clock; each instance
-- adds its own deltas to its own rows, and the failure ratio is the sum over the sampling window.
CREATE TABLE circuit_breaker_samples (
    name         text        NOT NULL REFERENCES circuit_breakers (name) ON DELETE CASCADE,
    epoch        bigint      NOT NULL,
    holder       text        NOT NULL,
    bucket_start timestamptz NOT NULL,
    successes    bigint      NOT NULL DEFAULT 0,
    failures     bigint      NOT NULL DEFAULT 0,
    PRIMARY KEY (name, epoch, holder, bucket_start)
);
