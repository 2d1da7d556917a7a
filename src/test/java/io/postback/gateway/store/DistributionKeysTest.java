package io.postback.gateway.store;

import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.TestBackends;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keeps the path to a distributed Postgres (Citus, docs/scaling.md) open: every table of the migrated
 * schema is either keyed by {@code surface_id} (the distribution column: it is a NOT NULL column and in
 * every unique key, apart from keys on a generated {@code id}, unique by construction) or listed here
 * as global with the reason. A new table fails this test until it is one or the other.
 */
class DistributionKeysTest {
  /** Tables distributed by surface_id, co-located (docs/scaling.md). */
  static final Set<String> BY_SURFACE = Set.of("conversions", "commissions", "clicks", "commission_rules",
      "surface_providers", "provider_events", "stripe_payment_intents");

  /** Tables not keyed by surface_id, and why. */
  static final Map<String, String> GLOBAL = Map.of(
      "surfaces", "the surfaces themselves (id is the surface id); small, cached by every instance: a reference table",
      "affiliates", "an affiliate works across surfaces; small, cached by every instance: a reference table",
      "links", "a click finds its link by code alone (the URL names no surface); cached by every instance: a reference table",
      "webhook_endpoints", "an endpoint may take every surface's events (surface_id is an optional scope); small: a reference table",
      "events", "the outbox also holds events of no surface (endpoint tests); partitioned by day of id, distributed by id, its deliveries co-located by event_id",
      "deliveries", "the delivery side claims by delivery id; partitioned by day of id, distributed by event_id, co-located with events",
      "delivery_attempts", "read and written with their delivery, partitioned by its day; co-located with deliveries once they carry event_id",
      "payouts", "a payout pays an affiliate across surfaces; low volume: kept on the coordinator",
      "attribution_reports", "a report spans surfaces; a handful of rows: kept on the coordinator",
      "portal_signing_key", "one row, the key every instance signs and checks portal links with: a reference table");

  @BeforeAll
  static void migrated() {
    RunningGateway.start().close();
  }

  @Test
  void everyTableIsKeyedBySurfaceOrListedAsGlobalWithItsReason() throws SQLException {
    Map<String, Table> tables = schema();

    Set<String> listed = new TreeSet<>(BY_SURFACE);
    listed.addAll(GLOBAL.keySet());
    assertThat(tables.keySet()).as("tables of the schema: each must be keyed by surface or listed as global")
        .containsExactlyInAnyOrderElementsOf(listed);
    assertThat(GLOBAL.values()).allSatisfy(reason -> assertThat(reason).isNotBlank());

    for (String name : BY_SURFACE) {
      Table t = tables.get(name);
      assertThat(t.surfaceIdNotNull).as(name + ".surface_id exists and is NOT NULL").isTrue();
      assertThat(t.uniqueKeys).as(name + ": unique keys hold surface_id, or a generated id").allSatisfy((key, columns) ->
          assertThat(columns).as(key).containsAnyOf("surface_id", "id"));
    }
  }

  private record Table(boolean surfaceIdNotNull, Map<String, List<String>> uniqueKeys) {
  }

  private static Map<String, Table> schema() throws SQLException {
    Map<String, Boolean> surfaceIdNotNull = new HashMap<>();
    Map<String, Map<String, List<String>>> keys = new HashMap<>();
    try (Connection c = TestBackends.jdbc()) {
      try (ResultSet rs = c.createStatement().executeQuery("""
          SELECT t.table_name, c.is_nullable = 'NO'
            FROM information_schema.tables t
            LEFT JOIN information_schema.columns c
              ON c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.column_name = 'surface_id'
           WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND t.table_name <> 'flyway_schema_history'
             -- a partitioned table is listed, its partitions (day partitions, the default) are not
             AND NOT (SELECT relispartition FROM pg_class WHERE oid = ('public.' || t.table_name)::regclass)
          """)) {
        while (rs.next()) {
          surfaceIdNotNull.put(rs.getString(1), rs.getBoolean(2));
          keys.put(rs.getString(1), new TreeMap<>());
        }
      }
      // Unique constraints and unique indexes alike (an expression index lists its plain columns).
      try (ResultSet rs = c.createStatement().executeQuery("""
          SELECT t.relname, i.relname, a.attname
            FROM pg_index x
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (x.indkey)
           WHERE n.nspname = 'public' AND x.indisunique
          """)) {
        while (rs.next()) {
          Map<String, List<String>> tableKeys = keys.get(rs.getString(1));
          if (tableKeys != null) {
            tableKeys.computeIfAbsent(rs.getString(2), k -> new ArrayList<>()).add(rs.getString(3));
          }
        }
      }
    }
    Map<String, Table> out = new TreeMap<>();
    surfaceIdNotNull.forEach((name, notNull) -> out.put(name, new Table(notNull, keys.get(name))));
    return out;
  }
}
