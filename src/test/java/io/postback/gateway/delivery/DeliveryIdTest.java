package io.postback.gateway.delivery;

import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A delivery's id is derived from its event and destination (delivery_id): stored deliveries, their
 * attempts and the primary key's refusal of a second delivery of the same pair all depend on it never
 * changing. V121 rewrote the function to be inlined; it must make V110's ids, byte for byte.
 */
class DeliveryIdTest {
  // Started for its migrations: delivery_id as the gateway's database has it.
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();

  @Test
  void aDeliveryIdIsTheOneV110Made() {
    assertThat(TestBackends.queryText("SELECT delivery_id('evt_01jfzq8w3k7x2m9q4r5s6t7v8w', 'whe_1', "
        + "timestamptz '2000-01-01 00:00:00+00')"))
        .as("a time-ordered event id: its time characters").isEqualTo("dlv_01jfzq8w3k7bf105922ab27a02");
    assertThat(TestBackends.queryText("SELECT delivery_id('evt_bench_r1_00000001', 'whe_1', "
        + "timestamptz '2026-12-06 12:34:56.789654+00')"))
        .as("an event id of another shape: its created_at").isEqualTo("dlv_01m95nka4p02964ad4977e42ed");
    assertThat(TestBackends.queryText("SELECT delivery_id('evt_0123456789abcdef0123456789ab', 'pbt_2', "
        + "timestamptz '1969-12-31 23:59:59.9995+00')"))
        .as("a legacy hex event id before the epoch").isEqualTo("dlv_zzzzzzzzzz867d3cf38b1245b4");
  }

  @Test
  void deliveryIdsAgreeWithV110sDefinitionForEveryShapeAndTimeZone() throws Exception {
    try (Connection c = TestBackends.jdbc(); Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS v110 CASCADE");
      s.execute("CREATE SCHEMA v110");
      try {
        // V110's definitions, as they were.
        s.execute("""
            CREATE FUNCTION v110.id_time_chars(m bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
            SELECT string_agg(substr('0123456789abcdefghjkmnpqrstvwxyz', ((m >> (5 * (9 - i))) & 31)::int + 1, 1), ''
                              ORDER BY i)
              FROM generate_series(0, 9) i
            $$""");
        s.execute("""
            CREATE FUNCTION v110.delivery_id(event_id text, endpoint_id text, event_created_at timestamptz) RETURNS text
                LANGUAGE sql IMMUTABLE AS $$
            SELECT 'dlv_' || CASE WHEN event_id ~ '^[a-z]+_[0-9a-hjkmnp-tv-z]{26}$'
                                  THEN substr(event_id, strpos(event_id, '_') + 1, 10)
                                  ELSE v110.id_time_chars((extract(epoch FROM event_created_at) * 1000)::bigint) END
                          || substr(md5(event_id || '/' || endpoint_id), 1, 16)
            $$""");
        for (String zone : new String[] {"UTC", "America/New_York", "Asia/Kolkata"}) {
          s.execute("SET timezone = '" + zone + "'");
          try (ResultSet rs = s.executeQuery("""
              SELECT count(*), count(*) FILTER (WHERE v110.delivery_id(e, p, t) IS DISTINCT FROM public.delivery_id(e, p, t))
                FROM (SELECT CASE g % 4 WHEN 0 THEN 'evt_' || substr(md5(g::text), 1, 26)
                                        WHEN 1 THEN 'evt_bench_' || g
                                        WHEN 2 THEN 'evt_' || md5(g::text)
                                        ELSE 'ck_' || translate(substr(md5(g::text), 1, 26), 'ilou', 'abcd') END AS e,
                             'whe_' || g % 7 AS p,
                             timestamptz '1960-01-01 00:00:00+00' + g * interval '5 hours 3.0005 seconds'
                               + (g % 1000) * interval '1 microsecond' AS t
                        FROM generate_series(1, 20000) g
                      UNION ALL
                      VALUES ('evt_x', 'whe_1', timestamptz '2026-12-06 23:59:59.9995+00'),
                             ('evt_x', 'whe_1', timestamptz '2026-12-06 23:59:59.9994999+00'),
                             ('evt_x', 'whe_1', timestamptz '1969-12-31 23:59:59.9995+00'),
                             ('evt_x', 'whe_1', NULL), (NULL, 'whe_1', now())) AS pairs(e, p, t)
              """)) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(20005);
            assertThat(rs.getLong(2)).as("ids that differ from V110's in time zone %s", zone).isZero();
          }
        }
      } finally {
        s.execute("RESET timezone");
        s.execute("DROP SCHEMA v110 CASCADE");
      }
    }
  }
}
