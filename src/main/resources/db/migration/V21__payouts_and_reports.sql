-- Payouts (SPEC §7): each status change writes its payout.* event in the same transaction.
-- affiliate_id is plain text on purpose: affiliates live in another capability's tables.
CREATE TABLE payouts (
    id           text PRIMARY KEY,                              -- po_...
    affiliate_id text        NOT NULL,
    amount_minor bigint      NOT NULL CHECK (amount_minor > 0),
    currency     text        NOT NULL,
    status       text        NOT NULL DEFAULT 'initiated',      -- initiated, completed, failed
    reference    text,
    failure_reason text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Attribution reports (SPEC §6), generated in the background by whichever instance leases them first.
CREATE TABLE attribution_reports (
    id             text PRIMARY KEY,                            -- rpt_...
    start_date     date        NOT NULL,
    end_date       date        NOT NULL,
    campaign_id    text,
    status         text        NOT NULL DEFAULT 'created',      -- created, running, completed, failed
    total_matches  integer,
    total_batches  integer,
    batches_emitted integer    NOT NULL DEFAULT 0,
    lease_until    timestamptz,
    error          text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attribution_reports_open_idx ON attribution_reports (created_at) WHERE status IN ('created', 'running');
-- The report scans attributed conversions by occurrence time.
CREATE INDEX conversions_attributed_occurred_idx ON conversions (occurred_at) WHERE affiliate_id IS NOT NULL;
