-- GET postback token controls (issue 8): an admin may switch token authentication off for a surface
-- (HMAC only), and renewing the token keeps the previous one valid until a grace time, like secrets.
ALTER TABLE surfaces
    ADD COLUMN postback_token_enabled              boolean NOT NULL DEFAULT true,
    ADD COLUMN previous_postback_token             text,
    ADD COLUMN previous_postback_token_valid_until timestamptz;
