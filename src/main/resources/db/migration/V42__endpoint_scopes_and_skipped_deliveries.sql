-- Webhook endpoint scopes (SPEC §5): an endpoint may be limited to one surface, one affiliate, or one
-- affiliate on one surface; null means "any". Plain text like payouts.affiliate_id: surfaces and
-- affiliates belong to other capabilities, and an endpoint may name one created a moment ago elsewhere.
ALTER TABLE webhook_endpoints ADD COLUMN surface_id text, ADD COLUMN affiliate_id text;

-- The affiliate an event is about, so that the fan-out can match scopes without reading the payload.
-- Null for events about no single affiliate (unattributed conversions, reports, operational events).
ALTER TABLE events ADD COLUMN affiliate_id text;
-- Events still waiting for their fan-out take the affiliate their payload names; older events have
-- their deliveries already and never fan out again.
UPDATE events SET affiliate_id = data->>'affiliateId' WHERE NOT fanned_out AND data ? 'affiliateId';

-- A delivery of an event that arrived while its endpoint was disabled is recorded with status
-- 'skipped': never scheduled, not counted as pending or dead, and replayable once the endpoint is enabled
-- again (POST /admin/webhook-endpoints/{id}/replay?since=, POST /admin/deliveries/{id}/replay).
CREATE INDEX deliveries_skipped_idx ON deliveries (endpoint_id, updated_at) WHERE status = 'skipped';
