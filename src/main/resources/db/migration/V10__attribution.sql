-- Attribution (issue 3): per-surface attribution settings, affiliates, tracking links, clicks,
-- commission rules and the commission ledger.

-- null means the gateway default (attribution and refund windows: 30 days; no minimum click time;
-- no allowlist; no rate limit).
ALTER TABLE surfaces
    ADD COLUMN attribution_window_ms        bigint,
    ADD COLUMN refund_window_ms             bigint,
    ADD COLUMN min_click_to_conversion_ms   bigint,
    ADD COLUMN postback_token               text,
    ADD COLUMN ip_allowlist                 text[],
    ADD COLUMN rate_limit_per_second        integer,
    ADD COLUMN rate_limit_burst             integer;

CREATE TABLE affiliates (
    id         text PRIMARY KEY,
    name       text        NOT NULL,
    status     text        NOT NULL CHECK (status IN ('pending', 'active', 'suspended')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX affiliates_updated_at_idx ON affiliates (updated_at);

-- A tracking link of one affiliate on one surface. Its optional promo code attributes conversions
-- that name the code instead of a click.
CREATE TABLE links (
    code            text PRIMARY KEY,
    surface_id      text        NOT NULL REFERENCES surfaces (id),
    affiliate_id    text        NOT NULL REFERENCES affiliates (id),
    destination_url text        NOT NULL,
    promo_code      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT links_surface_promo_uq UNIQUE (surface_id, promo_code)
);
CREATE INDEX links_updated_at_idx ON links (updated_at);

-- One row per visit through a link; written in micro-batches before the redirect is answered.
CREATE TABLE clicks (
    id                  text PRIMARY KEY,
    link_code           text        NOT NULL,
    surface_id          text        NOT NULL,
    affiliate_id        text        NOT NULL,
    clicked_at          timestamptz NOT NULL,
    ip                  text,
    user_agent          text,
    referrer            text,
    sub1                text,
    sub2                text,
    sub3                text,
    sub4                text,
    sub5                text,
    affiliate_suspended boolean     NOT NULL DEFAULT false
);

-- Flat (CPA) or percentage commission per surface and event type; affiliate_id null is the surface
-- default, a row with an affiliate overrides it for that affiliate.
CREATE TABLE commission_rules (
    id           text PRIMARY KEY,
    surface_id   text        NOT NULL REFERENCES surfaces (id),
    event_type   text        NOT NULL,
    affiliate_id text REFERENCES affiliates (id),
    flat_minor   bigint CHECK (flat_minor >= 0),
    percent_bps  integer CHECK (percent_bps BETWEEN 0 AND 10000),
    currency     text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((flat_minor IS NULL) <> (percent_bps IS NULL)),
    CHECK (flat_minor IS NULL OR currency IS NOT NULL)
);
CREATE UNIQUE INDEX commission_rules_key_uq ON commission_rules (surface_id, event_type, COALESCE(affiliate_id, ''));
CREATE INDEX commission_rules_updated_at_idx ON commission_rules (updated_at);

-- The ledger: a positive entry per commission earned, a negative one per reversal (clawback).
-- What an affiliate is owed is the sum of their entries, per currency.
CREATE TABLE commissions (
    id                   text PRIMARY KEY,
    kind                 text        NOT NULL CHECK (kind IN ('commission', 'reversal')),
    conversion_id        text        NOT NULL REFERENCES conversions (id),
    refund_conversion_id text REFERENCES conversions (id),
    surface_id           text        NOT NULL,
    affiliate_id         text        NOT NULL,
    amount_minor         bigint      NOT NULL,
    currency             text        NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'commission') = (amount_minor > 0))
);
CREATE INDEX commissions_conversion_idx ON commissions (conversion_id);
CREATE INDEX commissions_affiliate_idx ON commissions (affiliate_id, created_at);

-- Suspicion recorded on the conversion (e.g. click_to_conversion_too_fast).
ALTER TABLE conversions ADD COLUMN fraud_reason text;
-- Refunds waiting for their original, and refunds of one original, are found by refund_of.
CREATE INDEX conversions_refund_of_idx ON conversions (surface_id, refund_of) WHERE refund_of IS NOT NULL;
-- The sweeper that applies refunds whose original arrived concurrently looks only at these.
CREATE INDEX conversions_pending_refunds_idx ON conversions (received_at) WHERE status = 'refund_pending_original';
