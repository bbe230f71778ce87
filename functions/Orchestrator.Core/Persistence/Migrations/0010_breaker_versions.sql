-- A circuit breaker row's version moves on every change of it: an instance takes in a read only when it is not older
-- than the one it holds. (updated_at is now(), a transaction's start, so it cannot order two changes: a reset that
-- began before a trip committed would look older than it.) opened_at, opened_by and reason describe the last
-- opening, for operators.
ALTER TABLE circuit_breakers ADD COLUMN version bigint NOT NULL DEFAULT 0;
