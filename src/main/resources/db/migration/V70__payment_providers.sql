-- Payment providers (issue 12): a surface receives Stripe's or Razorpay's own signed webhooks.
-- One webhook secret per surface and provider; during a rotation the previous one keeps verifying
-- until previous_expires_at, like a surface's own secret.
CREATE TABLE surface_providers (
    surface_id          text        NOT NULL REFERENCES surfaces (id),
    provider            text        NOT NULL CHECK (provider IN ('stripe', 'razorpay')),
    secret              text        NOT NULL,
    previous_secret     text,
    previous_expires_at timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (surface_id, provider)
);

-- Provider events already answered, with the answer: a provider redelivering an event (same event id)
-- gets the same answer back without the event being mapped again. Written after the conversions it
-- produced were committed, so an event whose processing failed is processed again when retried.
CREATE TABLE provider_events (
    surface_id  text        NOT NULL,
    provider    text        NOT NULL,
    event_id    text        NOT NULL,
    event_type  text        NOT NULL,
    answer      jsonb       NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (surface_id, provider, event_id)
);

-- A Stripe refund names the payment intent it refunds; a subscription invoice's conversion is keyed by
-- the invoice (StripeEvents). Every invoice event that names its payment intent records the pair here,
-- so that refunds find the conversion (kept apart from conversions: their writes pay nothing for it).
CREATE TABLE stripe_payment_intents (
    surface_id     text NOT NULL,
    payment_intent text NOT NULL,
    external_id    text NOT NULL,
    PRIMARY KEY (surface_id, payment_intent)
);
