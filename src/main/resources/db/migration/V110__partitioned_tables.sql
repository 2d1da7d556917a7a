-- Data that ages out (issue 15, docs/scaling.md "Partitioning and retention"): clicks, events, deliveries
-- and delivery_attempts become tables partitioned by RANGE of their time-ordered id, one partition per
-- UTC day, so that retention drops a day's partition instead of deleting rows one by one. conversions,
-- commissions and the rest are not partitioned: they are kept.
--
-- The partition key is the id itself (delivery_id for attempts): prefix_ then 26 Crockford characters,
-- the first 10 the milliseconds since the epoch (Ids.timeOrdered, time_ordered_id). Every primary key
-- therefore already holds the partition key, and a lookup by id prunes to one partition. The key columns
-- are COLLATE "C" so that the range order is byte order whatever the database's collation; the primary
-- key indexes, the bounds and every comparison with them use that collation.
--
-- The existing tables are not copied: each becomes the DEFAULT partition of its new parent (a rename, a
-- collation change of its key, which rebuilds the key index but not the table, and one read to validate
-- a CHECK). The DEFAULT partition holds what is older than the oldest day partition (all rows from
-- before this migration, and the rows retention keeps, see PartitionMaintenance) and ids of no time
-- (hand-made or legacy: events once had 28 hex characters). Its CHECK (id < lowest bound OR id >= prefix_1)
-- proves to Postgres that a new day partition (between the two) has no rows in the default, so creating
-- one does not scan it. prefix_1 is the year 3084: above every real id, below most hand-made ones.

-- 10 Crockford base-32 characters of a millisecond count, as Ids.timeOrdered writes them.
CREATE FUNCTION id_time_chars(m bigint) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$
SELECT string_agg(substr('0123456789abcdefghjkmnpqrstvwxyz', ((m >> (5 * (9 - i))) & 31)::int + 1, 1), '' ORDER BY i)
  FROM generate_series(0, 9) i
$$;

-- The lowest id of a UTC day: the bound between two day partitions.
CREATE FUNCTION id_day_bound(prefix text, day date) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$
SELECT prefix || '_' || id_time_chars((extract(epoch FROM day::timestamp) * 1000)::bigint)
$$;

-- A delivery's id: derived from its event and destination, so that one (event, destination) has one id.
-- The primary key is therefore the last word on doubles, as the unique (event_id, endpoint_id) was (a
-- unique key of a partitioned table must hold the partition key, which that one could not). It takes the
-- event's time characters (its created_at for an event id of another shape), so an event's deliveries,
-- and their attempts, live in the event's day partition: retention finds them there.
CREATE FUNCTION delivery_id(event_id text, endpoint_id text, event_created_at timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$
SELECT 'dlv_' || CASE WHEN event_id ~ '^[a-z]+_[0-9a-hjkmnp-tv-z]{26}$'
                      THEN substr(event_id, strpos(event_id, '_') + 1, 10)
                      ELSE id_time_chars((extract(epoch FROM event_created_at) * 1000)::bigint) END
              || substr(md5(event_id || '/' || endpoint_id), 1, 16)
$$;

-- Creates the day partition of a table if it does not exist; true if it created it. Deliveries keep
-- their fillfactor (room for the claim's HOT update); a partitioned parent cannot carry it.
CREATE FUNCTION create_day_partition(parent text, prefix text, day date) RETURNS boolean
    LANGUAGE plpgsql AS
$$
DECLARE
  name text := parent || '_p' || to_char(day, 'YYYYMMDD');
BEGIN
  IF to_regclass(name) IS NOT NULL THEN
    RETURN false;
  END IF;
  EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)%s', name, parent,
                 id_day_bound(prefix, day), id_day_bound(prefix, day + 1),
                 CASE WHEN parent = 'deliveries' THEN ' WITH (fillfactor = 80)' ELSE '' END);
  RETURN true;
END
$$;

-- Replaces the CHECK of a table's default partition by one with a new lower bound, NOT VALID (no scan
-- under the ACCESS EXCLUSIVE lock ADD CONSTRAINT takes); VALIDATE it afterwards (a lighter lock).
CREATE FUNCTION set_default_bound(parent text, prefix text, bound text) RETURNS void
    LANGUAGE plpgsql AS
$$
BEGIN
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT IF EXISTS %I', parent || '_default', parent || '_default_bound');
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (%I < %L OR %I >= %L) NOT VALID',
                 parent || '_default', parent || '_default_bound',
                 CASE WHEN parent = 'delivery_attempts' THEN 'delivery_id' ELSE 'id' END, bound,
                 CASE WHEN parent = 'delivery_attempts' THEN 'delivery_id' ELSE 'id' END, prefix || '_1');
END
$$;

-- The foreign keys between the partitioned tables go: Postgres checks every referencing row when a
-- referenced partition is detached (a scan of the whole referencing table each day) and refuses while a
-- kept row still points into it. PartitionMaintenance keeps the rule they enforced: a delivery is
-- dropped only with or after its attempts, an event only when no delivery names it (tested in
-- PartitionMaintenanceTest). Deleting a webhook endpoint still removes its deliveries (ON DELETE CASCADE,
-- kept) and, by the trigger below, their attempts.
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_delivery_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_event_id_fkey;

-- clicks ---------------------------------------------------------------------------------------------
ALTER TABLE clicks RENAME TO clicks_default;
ALTER INDEX clicks_pkey RENAME TO clicks_default_pkey;
ALTER TABLE clicks_default ALTER COLUMN id TYPE text COLLATE "C";
CREATE TABLE clicks (
    id                  text COLLATE "C" NOT NULL,
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
    affiliate_suspended boolean     NOT NULL DEFAULT false,
    CONSTRAINT clicks_pkey PRIMARY KEY (id)
) PARTITION BY RANGE (id);

-- events ---------------------------------------------------------------------------------------------
ALTER TABLE events RENAME TO events_default;
ALTER INDEX events_pkey RENAME TO events_default_pkey;
ALTER INDEX events_not_fanned_out_idx RENAME TO events_default_not_fanned_out_idx;
ALTER TABLE events_default ALTER COLUMN id TYPE text COLLATE "C";
CREATE TABLE events (
    id           text COLLATE "C" NOT NULL,   -- evt_..., the webhook-id integrators dedupe on
    type         text        NOT NULL,
    surface_id   text,
    data         jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    fanned_out   boolean     NOT NULL DEFAULT false,
    affiliate_id text,
    CONSTRAINT events_pkey PRIMARY KEY (id)
) PARTITION BY RANGE (id);
CREATE INDEX events_not_fanned_out_idx ON events (created_at) WHERE NOT fanned_out;

-- deliveries -----------------------------------------------------------------------------------------
ALTER TABLE deliveries RENAME TO deliveries_default;
ALTER INDEX deliveries_pkey RENAME TO deliveries_default_pkey;
ALTER INDEX deliveries_pending_idx RENAME TO deliveries_default_pending_idx;
ALTER INDEX deliveries_dead_idx RENAME TO deliveries_default_dead_idx;
ALTER INDEX deliveries_skipped_idx RENAME TO deliveries_default_skipped_idx;
ALTER TABLE deliveries_default RENAME CONSTRAINT deliveries_endpoint_id_fkey TO deliveries_default_endpoint_id_fkey;
ALTER TABLE deliveries_default DROP CONSTRAINT deliveries_event_endpoint_uq;
ALTER TABLE deliveries_default ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN event_id TYPE text COLLATE "C";
CREATE TABLE deliveries (
    id               text COLLATE "C" NOT NULL,   -- delivery_id(event, endpoint)
    event_id         text COLLATE "C" NOT NULL,
    endpoint_id      text        NOT NULL,
    status           text        NOT NULL DEFAULT 'pending',
    attempts         integer     NOT NULL DEFAULT 0,
    retry_base       integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    leased_until     timestamptz,
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT deliveries_pkey PRIMARY KEY (id),
    CONSTRAINT deliveries_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints (id) ON DELETE CASCADE
) PARTITION BY RANGE (id);
CREATE INDEX deliveries_pending_idx ON deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX deliveries_dead_idx ON deliveries (endpoint_id, updated_at) WHERE status = 'dead';
CREATE INDEX deliveries_skipped_idx ON deliveries (endpoint_id, updated_at) WHERE status = 'skipped';
-- Which deliveries an event has: retention keeps an event while one names it.
CREATE INDEX deliveries_event_idx ON deliveries (event_id);

-- delivery_attempts ----------------------------------------------------------------------------------
-- Partitioned by delivery_id: a delivery's attempts live in its day partition. The unique key
-- (delivery_id, attempt) holds the partition key; the bigserial id stays, no longer unique by
-- constraint (a sequence), as the attempt log's order and cursor.
ALTER TABLE delivery_attempts RENAME TO delivery_attempts_default;
ALTER TABLE delivery_attempts_default DROP CONSTRAINT delivery_attempts_pkey;
ALTER INDEX delivery_attempts_uq RENAME TO delivery_attempts_default_uq;
ALTER INDEX delivery_attempts_endpoint_idx RENAME TO delivery_attempts_default_endpoint_idx;
ALTER TABLE delivery_attempts_default ALTER COLUMN delivery_id TYPE text COLLATE "C";
CREATE TABLE delivery_attempts (
    id            bigint      NOT NULL DEFAULT nextval('delivery_attempts_id_seq'),
    delivery_id   text COLLATE "C" NOT NULL,
    endpoint_id   text        NOT NULL,
    attempt       integer     NOT NULL,
    attempted_at  timestamptz NOT NULL,
    outcome       text        NOT NULL,
    status_code   integer,
    latency_ms    integer     NOT NULL,
    error         text,
    response_body text,
    CONSTRAINT delivery_attempts_uq UNIQUE (delivery_id, attempt)
) PARTITION BY RANGE (delivery_id);
ALTER SEQUENCE delivery_attempts_id_seq OWNED BY delivery_attempts.id;
CREATE INDEX delivery_attempts_endpoint_idx ON delivery_attempts (endpoint_id, attempted_at DESC);
-- The attempt log of an endpoint pages by id (newest first).
CREATE INDEX delivery_attempts_endpoint_id_idx ON delivery_attempts (endpoint_id, id DESC);

-- Attempts go with their endpoint's deliveries. The trigger runs after the ON DELETE CASCADE of
-- deliveries (triggers fire in name order, RI_... first), and in a snapshot of its own: an attempt
-- recorded while the delete waited for its delivery's row lock is removed too.
CREATE FUNCTION delete_endpoint_attempts() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
  DELETE FROM delivery_attempts WHERE endpoint_id = OLD.id;
  RETURN NULL;
END
$$;
CREATE TRIGGER webhook_endpoints_zz_attempts AFTER DELETE ON webhook_endpoints
    FOR EACH ROW EXECUTE FUNCTION delete_endpoint_attempts();

-- The old tables become the default partitions, bounded below the next UTC midnight (rows of today keep
-- going to the default until then); day partitions from then on, a week ahead. PartitionMaintenance
-- keeps creating them.
DO
$$
DECLARE
  t record;
  first_day date := (now() AT TIME ZONE 'UTC')::date + 1;
BEGIN
  FOR t IN SELECT * FROM (VALUES ('clicks', 'ck'), ('events', 'evt'), ('deliveries', 'dlv'),
                                 ('delivery_attempts', 'dlv')) AS v(parent, prefix) LOOP
    PERFORM set_default_bound(t.parent, t.prefix, id_day_bound(t.prefix, first_day));
    EXECUTE format('ALTER TABLE %I VALIDATE CONSTRAINT %I', t.parent || '_default', t.parent || '_default_bound');
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I DEFAULT', t.parent, t.parent || '_default');
    FOR i IN 0..7 LOOP
      PERFORM create_day_partition(t.parent, t.prefix, first_day + i);
    END LOOP;
  END LOOP;
END
$$;
