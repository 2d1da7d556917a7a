-- One id format: ids made in SQL (events, commission entries, deliveries) take the form Ids.timeOrdered
-- makes in Java, prefix_ then 26 Crockford base-32 characters, the first 10 the milliseconds since the
-- epoch. Before this, SQL made 28 hex characters, and one table (events) held ids of two shapes. Ids
-- already stored keep theirs.
-- The 16 random characters are 8 uuid bytes in hex (hex digits are Crockford characters): 62 random
-- bits rather than Java's 80, plenty within one millisecond, and as cheap as the hex form it replaces
-- (measured: full base-32 of 80 random bits cost 3x as much per id; plpgsql computes the time once).
CREATE OR REPLACE FUNCTION time_ordered_id(prefix text) RETURNS text
    LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS
$$
DECLARE
  a constant text := '0123456789abcdefghjkmnpqrstvwxyz';
  m bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
BEGIN
  RETURN prefix || '_'
           || substr(a, (m >> 45 & 31)::int + 1, 1) || substr(a, (m >> 40 & 31)::int + 1, 1)
           || substr(a, (m >> 35 & 31)::int + 1, 1) || substr(a, (m >> 30 & 31)::int + 1, 1)
           || substr(a, (m >> 25 & 31)::int + 1, 1) || substr(a, (m >> 20 & 31)::int + 1, 1)
           || substr(a, (m >> 15 & 31)::int + 1, 1) || substr(a, (m >> 10 & 31)::int + 1, 1)
           || substr(a, (m >> 5 & 31)::int + 1, 1) || substr(a, (m & 31)::int + 1, 1)
           || encode(substr(uuid_send(gen_random_uuid()), 9, 8), 'hex');
END
$$;
