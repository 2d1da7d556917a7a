-- Outbound webhooks (SPEC §5). Postgres is the truth for every delivery; Redis only holds the schedule
-- (which delivery is due when) and the leases of claimed deliveries, and is rebuilt from here.

CREATE TABLE webhook_endpoints (
    id                          text PRIMARY KEY,                 -- whe_...
    url                         text        NOT NULL,
    description                 text,
    event_types                 text[],                           -- null: every event type
    secret                      text        NOT NULL,             -- whsec_<base64>
    previous_secret             text,                             -- still signs during a rotation
    previous_secret_valid_until timestamptz,
    enabled                     boolean     NOT NULL DEFAULT true,
    disabled_reason             text,
    timeout_ms                  integer,                          -- null: the gateway default
    max_in_flight               integer,                          -- null: the gateway default
    failing_since               timestamptz,                      -- first failure of the current failing streak
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now()
);

-- One delivery per (event, subscribed endpoint). status: pending (waiting or being sent), succeeded, dead.
-- A claimer holds a pending delivery until leased_until (the Postgres half of the claim: even if Redis
-- hands an id out twice, e.g. after a FLUSHALL, only one claimer gets it from here).
-- attempts counts recorded attempts; a worker records attempt n only while attempts = n - 1, so two
-- instances can never both record the same attempt. retry_base is attempts at the last (re)start of the
-- retry schedule: a manual replay starts a fresh schedule.
CREATE TABLE deliveries (
    id               text PRIMARY KEY,                          -- dlv_...
    event_id         text        NOT NULL REFERENCES events (id),
    endpoint_id      text        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    status           text        NOT NULL DEFAULT 'pending',
    attempts         integer     NOT NULL DEFAULT 0,
    retry_base       integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    leased_until     timestamptz,                              -- set by a claim; unindexed, so a claim is a HOT update
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT deliveries_event_endpoint_uq UNIQUE (event_id, endpoint_id)
) WITH (fillfactor = 80);  -- room on each page for the claim's HOT update
-- The reconciler walks due pending deliveries; the gauges count pending and dead.
CREATE INDEX deliveries_pending_idx ON deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX deliveries_dead_idx ON deliveries (endpoint_id, updated_at) WHERE status = 'dead';

-- Every attempt, as the admin API shows it. (delivery_id, attempt) is unique: the last word on doubles.
CREATE TABLE delivery_attempts (
    id            bigserial PRIMARY KEY,
    delivery_id   text        NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    endpoint_id   text        NOT NULL,
    attempt       integer     NOT NULL,
    attempted_at  timestamptz NOT NULL,
    outcome       text        NOT NULL,                          -- success, failure, timeout
    status_code   integer,
    latency_ms    integer     NOT NULL,
    error         text,
    response_body text,                                          -- truncated
    CONSTRAINT delivery_attempts_uq UNIQUE (delivery_id, attempt)
);
CREATE INDEX delivery_attempts_endpoint_idx ON delivery_attempts (endpoint_id, attempted_at DESC);
