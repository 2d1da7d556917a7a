-- Affiliate postbacks (issue 11, SPEC §5.1): a postback URL template is a delivery destination like a
-- webhook endpoint, so it lives in webhook_endpoints with kind 'affiliate_postback'. Fan-out, claims,
-- leases, retries, dead letters, replay, per-destination concurrency and health then apply unchanged;
-- only the request built at send time differs (DeliveryStore, WebhookSender, PostbackTemplate).
-- A template is always scoped to its affiliate (affiliate_id NOT NULL) and subscribes to a subset of
-- the conversion events (event_types NOT NULL); the admin API enforces both.
ALTER TABLE webhook_endpoints
    ADD COLUMN kind          text    NOT NULL DEFAULT 'webhook' CHECK (kind IN ('webhook', 'affiliate_postback')),
    ADD COLUMN method        text    CHECK (method IN ('GET', 'POST')),
    ADD COLUMN body_template text,
    ADD COLUMN sign_query    boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT webhook_endpoints_postback_scope_ck
        CHECK (kind = 'webhook' OR (affiliate_id IS NOT NULL AND event_types IS NOT NULL AND method IS NOT NULL));
-- The admin API lists an affiliate's templates.
CREATE INDEX webhook_endpoints_affiliate_postbacks_idx ON webhook_endpoints (affiliate_id, id)
    WHERE kind = 'affiliate_postback';

-- What a postback's macros need of the click ({link_code}, {ip}, {sub1}..{sub5}, {sub:name}), copied onto
-- the conversion when it is attributed to that click (ConversionWriter), so that a later approval or
-- refund still renders them after old clicks age out. click_subs: {"sub1": "...", ...}, only those the
-- click carried.
ALTER TABLE conversions
    ADD COLUMN link_code  text,
    ADD COLUMN click_ip   text,
    ADD COLUMN click_subs jsonb;
