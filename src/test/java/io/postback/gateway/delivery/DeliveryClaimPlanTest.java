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
 * A claim must cost the same with 20 or 200,000 deliveries pending: it looks its rows up by primary key
 * only. Checked on the generic plan (the one a prepared statement settles on) of a table without
 * statistics, the state in which Postgres once chose to read the whole pending index for every claim.
 */
class DeliveryClaimPlanTest {
  // Started for its migrations: the plan is taken on copies of the real tables and their indexes.
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();

  @Test
  void aClaimReadsDeliveriesByPrimaryKeyWhateverTheBacklog() throws Exception {
    try (Connection c = TestBackends.jdbc(); Statement s = c.createStatement()) {
      emptyCopies(s, "claim_plan", "events", "webhook_endpoints", "deliveries");
      s.execute("SET search_path = claim_plan");
      s.execute("INSERT INTO webhook_endpoints (id, url, secret) VALUES ('whe_1', 'http://x.example/', 's')");
      s.execute("INSERT INTO events (id, type, data) SELECT 'ev' || g, 't', '{}' FROM generate_series(1, 20000) g");
      s.execute("INSERT INTO deliveries (id, event_id, endpoint_id, next_attempt_at) "
          + "SELECT 'dlv' || g, 'ev' || g, 'whe_1', now() - interval '1 minute' FROM generate_series(1, 20000) g");
      s.execute("SET plan_cache_mode = force_generic_plan");
      s.execute("PREPARE claim(text[], timestamptz, timestamptz, timestamptz) AS " + DeliveryStore.CLAIM);
      String plan;
      try {
        plan = plan(s, "EXPLAIN EXECUTE claim('{dlv1,dlv2,dlv3,dlv4}', now() + interval '1 minute', now(), now())");
      } finally {
        s.execute("DEALLOCATE claim");
        s.execute("RESET search_path");
        s.execute("DROP SCHEMA claim_plan CASCADE");
      }
      assertThat(plan)
          .as("the deliveries are found by their key, not by scanning the pending backlog")
          .contains("deliveries_pkey")
          .doesNotContain("next_attempt_at_id_idx");
    }
  }

  /**
   * The statistics a burst meets: gathered while nearly nothing was pending (a drained queue), so a plan
   * made from them takes the pending index for nearly empty, and reading it for each statement reads
   * the whole burst. Recording attempts and handing deliveries back look them up by key all the same.
   */
  @Test
  void recordingAndHandingBackReadDeliveriesByPrimaryKeyWhenABurstFollowsADrainedQueue() throws Exception {
    try (Connection c = TestBackends.jdbc(); Statement s = c.createStatement()) {
      emptyCopies(s, "record_plan", "deliveries", "delivery_attempts");
      s.execute("SET search_path = record_plan");
      s.execute("INSERT INTO deliveries (id, event_id, endpoint_id, status, next_attempt_at) SELECT 'dlv' || g, "
          + "'ev' || g, 'whe_1', 'succeeded', now() - interval '1 minute' FROM generate_series(1, 20000) g");
      s.execute("ANALYZE deliveries");
      s.execute("UPDATE deliveries SET status = 'pending'");
      s.execute("SET plan_cache_mode = force_generic_plan");
      s.execute("PREPARE record(text[], int[], text[], timestamptz[], timestamptz[], int[], int[], text[], text[], "
          + "text[], text[]) AS " + DeliveryStore.RECORD);
      s.execute("PREPARE release(text[], timestamptz) AS " + DeliveryStore.RELEASE);
      String record;
      String release;
      try {
        record = plan(s, "EXPLAIN EXECUTE record('{dlv1}', '{1}', '{succeeded}', ARRAY[now()], '{NULL}', '{204}', "
            + "'{5}', '{success}', '{NULL}', '{NULL}', '{whe_1}')");
        release = plan(s, "EXPLAIN EXECUTE release('{dlv1}', now())");
      } finally {
        s.execute("DEALLOCATE ALL");
        s.execute("RESET plan_cache_mode");
        s.execute("RESET search_path");
        s.execute("DROP SCHEMA record_plan CASCADE");
      }
      assertThat(record).as("recording").contains("deliveries_pkey").doesNotContain("next_attempt_at_id_idx");
      assertThat(release).as("handing back").contains("deliveries_pkey").doesNotContain("next_attempt_at_id_idx");
    }
  }

  /** A new schema with empty copies of the tables (their indexes too), which autovacuum leaves alone. */
  private static void emptyCopies(Statement s, String schema, String... tables) throws Exception {
    s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    s.execute("CREATE SCHEMA " + schema);
    for (String table : tables) {
      s.execute("CREATE TABLE " + schema + "." + table + " (LIKE public." + table + " INCLUDING ALL) "
          + "WITH (autovacuum_enabled = false)");
    }
  }

  private static String plan(Statement s, String explain) throws Exception {
    StringBuilder plan = new StringBuilder();
    try (ResultSet rs = s.executeQuery(explain)) {
      while (rs.next()) {
        plan.append(rs.getString(1)).append('\n');
      }
    }
    return plan.toString();
  }

  @Test
  void theFanOutFindsAffiliateScopedEndpointsThroughTheIndexWhateverTheirNumber() throws Exception {
    try (Connection c = TestBackends.jdbc(); Statement s = c.createStatement()) {
      emptyCopies(s, "fan_out_plan", "webhook_endpoints", "deliveries");
      // The copies first, the functions (delivery_id) from public.
      s.execute("SET search_path = fan_out_plan, public");
      s.execute("INSERT INTO webhook_endpoints (id, url, secret, affiliate_id, event_types) SELECT 'whe_a' || g, "
          + "'http://x.example/', 's', 'aff_' || g, '{conversion.created}' FROM generate_series(1, 1000) g");
      s.execute("INSERT INTO webhook_endpoints (id, url, secret) SELECT 'whe_u' || g, 'http://x.example/', 's' "
          + "FROM generate_series(1, 3) g");
      s.execute("ANALYZE webhook_endpoints");
      String plan;
      try {
        plan = plan(s, "EXPLAIN WITH new_events AS (SELECT 'evt_' || g AS id, "
            + "'conversion.created' AS type, 'srf_1' AS surface_id, 'aff_' || g AS affiliate_id, now() AS created_at, "
            + "'attributed' AS conversion_status FROM generate_series(1, 64) g) "
            + DeliveryStore.deliveriesFor("new_events"));
      } finally {
        s.execute("RESET search_path");
        s.execute("DROP SCHEMA fan_out_plan CASCADE");
      }
      assertThat(plan)
          .as("each event looks its affiliate's endpoints up, not every endpoint")
          .contains("Index Cond: (affiliate_id = ");
    }
  }
}
