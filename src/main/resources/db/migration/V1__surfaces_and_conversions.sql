-- A surface is one integration of one merchant, with its own postback secrets.
-- The current secret and, during a rotation, the previous one until previous_secret_valid_until.
CREATE TABLE surfaces (
    id                          text PRIMARY KEY,
    name                        text        NOT NULL,
    secret                      text        NOT NULL,
    previous_secret             text,
    previous_secret_valid_until timestamptz,
    timestamp_tolerance_ms      bigint,               -- null: the gateway default
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now()
);
-- Instances poll for surfaces changed since their last look.
CREATE INDEX surfaces_updated_at_idx ON surfaces (updated_at);

-- One row per accepted postback. The unique (surface_id, external_id) constraint is the final word on
-- duplicates: Redis only filters ahead of it.
CREATE TABLE conversions (
    id                  text PRIMARY KEY,
    surface_id          text        NOT NULL REFERENCES surfaces (id),
    external_id         text        NOT NULL,
    event_type          text        NOT NULL,
    gross_minor         bigint,
    currency            text,
    occurred_at         timestamptz NOT NULL,
    received_at         timestamptz NOT NULL DEFAULT now(),
    click_id            text,
    promo_code          text,
    refund_of           text,
    metadata            jsonb,
    -- the attribution outcome answered to the merchant, replayed verbatim for duplicates
    status              text        NOT NULL,
    affiliate_id        text,
    commission_minor    bigint      NOT NULL DEFAULT 0,
    commission_currency text,
    CONSTRAINT conversions_surface_external_uq UNIQUE (surface_id, external_id)
);
-- The admin listing pages a surface's conversions by id (ids are time-ordered).
CREATE INDEX conversions_surface_id_idx ON conversions (surface_id, id);
