-- The transactional outbox: every event of interest (SPEC §5) is written here in the same transaction
-- as the change that causes it. The delivery side reads only this table (and its own queue).
CREATE TABLE events (
    id         text PRIMARY KEY,                 -- evt_..., the webhook-id integrators dedupe on
    type       text        NOT NULL,             -- conversion.created, commission.created, ...
    surface_id text,
    data       jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    fanned_out boolean     NOT NULL DEFAULT false -- deliveries exist for every subscribed endpoint
);
CREATE INDEX events_not_fanned_out_idx ON events (created_at) WHERE NOT fanned_out;
