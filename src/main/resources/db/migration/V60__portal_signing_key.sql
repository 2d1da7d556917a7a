-- The key that signs integrator portal links (SPEC §7): generated once by the first gateway that starts,
-- shared by every instance, so that a link minted on one is accepted by all. One row, id 1.
CREATE TABLE portal_signing_key (
  id         int PRIMARY KEY CHECK (id = 1),
  key        bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
