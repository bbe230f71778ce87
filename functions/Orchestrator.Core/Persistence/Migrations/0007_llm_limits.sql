-- LLM provider limits shared by every instance of the cluster.
--
-- llm_slots: one row per concurrency permit of a provider (slot 0..N-1, created lazily by the first instance that
-- uses the provider). A slot is free when holder is NULL or its lease has expired; the holding process renews the
-- lease while its call runs, so a crashed instance's slots come back after one lease. lease identifies one grant,
-- so a late release of an expired grant can never free the slot for its next holder.
CREATE TABLE llm_slots (
    provider         text        NOT NULL,
    slot             integer     NOT NULL,
    holder           text,
    lease            uuid,
    lease_expires_at timestamptz,
    PRIMARY KEY (provider, slot)
);

-- Grants of a sliding-window limit (requests or tokens per minute of a provider), summed per short bucket.
-- bucket is the bucket's start in milliseconds since the Unix epoch on the database clock. A grant counts every
-- bucket that overlaps the window; buckets that no longer can are deleted by the grants themselves.
CREATE TABLE llm_rate_buckets (
    provider text   NOT NULL,
    kind     text   NOT NULL,
    bucket   bigint NOT NULL,
    amount   bigint NOT NULL,
    PRIMARY KEY (provider, kind, bucket)
);
