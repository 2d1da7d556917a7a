-- Recurring commissions (issue 12): a conversion may name the merchant's customer; a renewal of a
-- customer without a click or promo code is credited to the affiliate of that customer's first
-- attributed conversion while the rule's recurring_months last (0: for the customer's lifetime; null:
-- the rule pays one-off conversions only).
ALTER TABLE conversions ADD COLUMN customer_id text;
ALTER TABLE commission_rules ADD COLUMN recurring_months integer CHECK (recurring_months >= 0);
-- Only attributed originals with a customer: conversions without one cost the insert nothing more
-- than this predicate.
CREATE INDEX conversions_customer_first_idx ON conversions (surface_id, customer_id, occurred_at)
    WHERE customer_id IS NOT NULL AND affiliate_id IS NOT NULL AND refund_of IS NULL;
