package io.postback.gateway.store;

import io.postback.gateway.config.GatewayConfig;
import io.postback.gateway.config.GatewayConfig.RetentionSettings;
import io.postback.gateway.config.PostgresUrl;
import io.postback.gateway.ids.Ids;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.store.PartitionMaintenance.Outcome;
import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import io.postback.gateway.support.WebhookReceiver;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Day partitions ahead and retention behind (V110, PartitionMaintenance), on the real schema: old rows
 * are made with ids of an old instant in partitions created for their day.
 */
class PartitionMaintenanceTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final RetentionSettings DEFAULTS = GatewayConfig.from(new JsonObject(), Map.of()).retention();

  // Fast delivery so that kept deliveries are shown to be deliverable within seconds; the gateway's own
  // maintenance runs once at its start, not during the tests.
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway(Map.of(
      "GATEWAY_RETRY_SCHEDULE", "100ms,200ms,300ms",
      "GATEWAY_DELIVERY_POLL_INTERVAL", "20ms",
      "GATEWAY_DELIVERY_RECONCILE_INTERVAL", "200ms",
      "GATEWAY_PARTITION_MAINTENANCE_INTERVAL", "12h"));

  private static Vertx vertx;
  private static Pool pool;
  private static Pool otherPool;
  private static WebhookReceiver receiver;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    PostgresUrl url = new PostgresUrl(TestBackends.get().pgUrl());
    pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(2)).connectingTo(url.connectOptions()).using(vertx).build();
    otherPool = PgBuilder.pool().with(new PoolOptions().setMaxSize(2)).connectingTo(url.connectOptions()).using(vertx)
        .build();
    receiver = new WebhookReceiver();
  }

  @AfterAll
  static void stop() throws Exception {
    receiver.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static Outcome run(Pool on, RetentionSettings settings) {
    return await(new PartitionMaintenance(on, settings, new GatewayMetrics()).run());
  }

  private static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static LocalDate today() {
    return LocalDate.now(ZoneOffset.UTC);
  }

  private static long millis(LocalDate day) {
    return day.atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
  }

  private static void partition(String table, String prefix, LocalDate day) {
    TestBackends.execute("SELECT create_day_partition('" + table + "', '" + prefix + "', DATE '" + day + "')");
  }

  private static boolean exists(String relation) {
    return TestBackends.queryLong("SELECT count(*) FROM pg_class WHERE relname = ?", relation) == 1;
  }

  private static String where(String table, String id) {
    return TestBackends.queryText("SELECT tableoid::regclass::text FROM " + table + " WHERE "
        + (table.equals("delivery_attempts") ? "delivery_id" : "id") + " = '" + id + "'");
  }

  @Test
  void partitionsAreCreatedAheadAndTheGaugeCountsTheDays() {
    GatewayMetrics metrics = new GatewayMetrics();
    RetentionSettings tenAhead = new RetentionSettings(DEFAULTS.clicks(), DEFAULTS.events(), DEFAULTS.deliveries(),
        DEFAULTS.attempts(), DEFAULTS.providerEvents(), 10, DEFAULTS.interval());
    Outcome first = await(new PartitionMaintenance(pool, tenAhead, metrics).run());
    Outcome again = await(new PartitionMaintenance(pool, tenAhead, metrics).run());

    for (String table : PartitionMaintenance.TABLES.stream().map(PartitionMaintenance.Table::name).toList()) {
      for (int i = 1; i <= 10; i++) {
        assertThat(exists(table + "_p" + today().plusDays(i).toString().replace("-", ""))).as(table + " +" + i).isTrue();
      }
    }
    assertThat(first.ranHere()).isTrue();
    assertThat(first.created()).as("the migration made 8 days; 2 more per table").isGreaterThanOrEqualTo(8);
    assertThat(again.created()).isZero();
    String scrape = metrics.scrape();
    assertThat(scrape).contains("gateway_partitions_ahead{table=\"clicks\"} 10.0")
        .contains("gateway_partitions_ahead{table=\"delivery_attempts\"} 10.0");
  }

  @Test
  void aNewDayPartitionDoesNotScanTheDefaultPartition() {
    // The default partition's CHECK proves it holds nothing of a day to come: Postgres says so at DEBUG1.
    String day = today().plusDays(20).toString();
    try (var c = TestBackends.jdbc(); var s = c.createStatement()) {
      s.execute("SET client_min_messages = debug1");
      s.execute("SELECT create_day_partition('events', 'evt', DATE '" + day + "')");
      StringBuilder notices = new StringBuilder();
      for (var w = s.getWarnings(); w != null; w = w.getNextWarning()) {
        notices.append(w.getMessage()).append('\n');
      }
      assertThat(notices.toString())
          .contains("updated partition constraint for default partition \"events_default\" is implied by existing constraints")
          .doesNotContain("verifying table \"events_default\"");
      s.execute("DROP TABLE events_p" + day.replace("-", ""));
    } catch (java.sql.SQLException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void retentionDropsSucceededAndSkippedDeliveriesAndKeepsPendingAndDeadOnesWithTheirEventsAndAttempts() {
    GatewayClient client = gateway.client();
    Reply reg = client.admin("POST", "/admin/webhook-endpoints", new JsonObject().put("url", receiver.url("/kept"))
        .put("eventTypes", new JsonArray(List.of("retention.test"))));
    assertThat(reg.status()).isEqualTo(201);
    String endpoint = reg.json().getString("id");
    LocalDate old = today().minusDays(40);
    for (String[] t : new String[][] {{"events", "evt"}, {"deliveries", "dlv"}, {"delivery_attempts", "dlv"}}) {
      partition(t[0], t[1], old);
    }
    long at = millis(old) + 3_600_000;
    String[] events = new String[6];
    for (int i = 0; i < events.length; i++) {
      events[i] = Ids.timeOrdered("evt", at + i);
      TestBackends.execute("INSERT INTO events (id, type, data, created_at, fanned_out) VALUES ('" + events[i]
          + "', 'retention.test', '{}', to_timestamp(" + (at + i) / 1000.0 + "), true)");
    }
    // e0 succeeded, e1 pending (due tomorrow: not sent before the test says so), e2 dead, e3 skipped (an
    // event for a disabled endpoint: replayable within the retention, not after); e4 has
    // no delivery; e5 a succeeded one whose attempts were already gone.
    String[] status = {"succeeded", "pending", "dead", "skipped", null, "succeeded"};
    String[] deliveries = new String[6];
    for (int i = 0; i < events.length; i++) {
      if (status[i] == null) {
        continue;
      }
      deliveries[i] = TestBackends.queryText("INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, "
          + "next_attempt_at, created_at, updated_at) SELECT delivery_id(id, '" + endpoint + "', created_at), id, '"
          + endpoint + "', '" + status[i] + "', 1, now() + interval '1 day', created_at, created_at FROM events WHERE id = '"
          + events[i] + "' RETURNING id");
      if (i < 4) {
        TestBackends.execute("INSERT INTO delivery_attempts (delivery_id, endpoint_id, attempt, attempted_at, outcome, "
            + "latency_ms) VALUES ('" + deliveries[i] + "', '" + endpoint + "', 1, to_timestamp(" + at / 1000 + "), '"
            + (i == 0 ? "success" : "failure") + "', 5)");
      }
    }
    assertThat(where("deliveries", deliveries[1])).isEqualTo("deliveries_p" + old.toString().replace("-", ""));

    Outcome outcome = run(pool, DEFAULTS);

    assertThat(outcome.dropped()).isGreaterThanOrEqualTo(3);
    for (String table : List.of("events", "deliveries", "delivery_attempts")) {
      assertThat(exists(table + "_p" + old.toString().replace("-", ""))).as(table).isFalse();
    }
    // Succeeded and skipped deliveries go with their day, and so do their events and attempts.
    for (int i : new int[] {0, 3}) {
      assertThat(where("events", events[i])).isNull();
      assertThat(where("deliveries", deliveries[i])).isNull();
      assertThat(where("delivery_attempts", deliveries[i])).isNull();
    }
    assertThat(where("events", events[4])).isNull();
    assertThat(where("events", events[5])).isNull();
    for (int i = 1; i <= 2; i++) {
      assertThat(where("events", events[i])).isEqualTo("events_default");
      assertThat(where("deliveries", deliveries[i])).isEqualTo("deliveries_default");
      assertThat(where("delivery_attempts", deliveries[i])).isEqualTo("delivery_attempts_default");
    }
    assertNothingOrphaned(endpoint);

    // Kept means still deliverable: the pending one when it falls due, the dead one on replay.
    TestBackends.execute("UPDATE deliveries SET next_attempt_at = now() WHERE id = '" + deliveries[1] + "'");
    assertThat(client.admin("POST", "/admin/deliveries/" + deliveries[2] + "/replay", null).status()).isEqualTo(202);
    Await.until("the kept deliveries delivered", WAIT, () -> TestBackends.queryLong(
        "SELECT count(*) FROM deliveries WHERE endpoint_id = ? AND status = 'succeeded'", endpoint) == 2);
    assertThat(receiver.received("/kept")).hasSize(2);
    assertThat(receiver.received("/kept")).extracting(r -> r.header("webhook-id"))
        .containsExactlyInAnyOrder(events[1], events[2]);

    // Once one has succeeded for longer than the retention, it ages out of the default partition with its
    // attempts and event; the other, succeeded just now, stays until its time.
    TestBackends.execute("UPDATE deliveries SET updated_at = now() - interval '31 days' WHERE id = '" + deliveries[1] + "'");
    TestBackends.execute("UPDATE delivery_attempts SET attempted_at = now() - interval '31 days' WHERE delivery_id = '"
        + deliveries[1] + "'");
    Outcome later = run(pool, DEFAULTS);
    assertThat(later.agedOut()).isGreaterThanOrEqualTo(1 + 1 + 2);
    assertThat(where("deliveries", deliveries[1])).isNull();
    assertThat(where("delivery_attempts", deliveries[1])).isNull();
    assertThat(where("events", events[1])).isNull();
    assertThat(where("deliveries", deliveries[2])).isEqualTo("deliveries_default");
    assertThat(where("delivery_attempts", deliveries[2])).isEqualTo("delivery_attempts_default");
    assertThat(where("events", events[2])).isEqualTo("events_default");
    assertNothingOrphaned(endpoint);

    // Deleting the endpoint takes its deliveries (cascade) and their attempts (trigger) with it.
    assertThat(client.admin("DELETE", "/admin/webhook-endpoints/" + endpoint, null).status()).isEqualTo(200);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM deliveries WHERE endpoint_id = ?", endpoint)).isZero();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM delivery_attempts WHERE endpoint_id = ?", endpoint)).isZero();
  }

  /** What the dropped foreign keys said: no delivery without its event, no attempt without its delivery. */
  private static void assertNothingOrphaned(String endpoint) {
    assertThat(TestBackends.queryLong("SELECT count(*) FROM deliveries d WHERE d.endpoint_id = ? "
        + "AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = d.event_id)", endpoint)).isZero();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM delivery_attempts a WHERE a.endpoint_id = ? "
        + "AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = a.delivery_id)", endpoint)).isZero();
  }

  /** A provider's answered event is remembered for its retention, then forgotten; a recent one stays. */
  @Test
  void providerEventsOlderThanTheirRetentionAreForgotten() {
    String surface = gateway.client().createSurface().id();
    TestBackends.execute("INSERT INTO provider_events (surface_id, provider, event_id, event_type, answer, received_at) VALUES "
        + "('" + surface + "', 'stripe', 'evt_old', 'charge.succeeded', '{}', now() - interval '31 days'), "
        + "('" + surface + "', 'stripe', 'evt_recent', 'charge.succeeded', '{}', now() - interval '29 days')");

    Outcome outcome = run(pool, DEFAULTS);

    assertThat(outcome.agedOut()).isGreaterThanOrEqualTo(1);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM provider_events WHERE surface_id = ? AND event_id = 'evt_old'",
        surface)).isZero();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM provider_events WHERE surface_id = ? AND event_id = 'evt_recent'",
        surface)).isEqualTo(1);
  }

  @Test
  void clicksOlderThanTheirRetentionAreDroppedAndAnswerAsUnknownButNotBeforeTheLongestAttributionWindow() {
    GatewayClient client = gateway.client();
    TestSurface surface = client.createSurface();
    String affiliate = client.createAffiliate("active");
    client.createRule(surface, "sale", 500L, null, null);
    String code = client.createLink(surface, affiliate, "https://shop.example/", null);
    LocalDate old = today().minusDays(120);
    partition("clicks", "ck", old);
    String click = Ids.timeOrdered("ck", millis(old) + 60_000);
    TestBackends.execute("INSERT INTO clicks (id, link_code, surface_id, affiliate_id, clicked_at) VALUES ('" + click
        + "', '" + code + "', '" + surface.id() + "', '" + affiliate + "', to_timestamp(" + (millis(old) + 60_000) / 1000 + "))");
    String partition = "clicks_p" + old.toString().replace("-", "");

    // A surface that credits clicks for 150 days keeps them at least 151 days, whatever the setting says.
    TestBackends.execute("UPDATE surfaces SET attribution_window_ms = " + Duration.ofDays(150).toMillis()
        + " WHERE id = '" + surface.id() + "'");
    try {
      run(pool, DEFAULTS);
      assertThat(exists(partition)).isTrue();
    } finally {
      TestBackends.execute("UPDATE surfaces SET attribution_window_ms = NULL WHERE id = '" + surface.id() + "'");
    }
    assertThat(PartitionMaintenance.effective(DEFAULTS, Duration.ofDays(150)).get(3)).isEqualTo(Duration.ofDays(151));
    assertThat(PartitionMaintenance.effective(DEFAULTS, Duration.ofDays(30)).get(3)).isEqualTo(Duration.ofDays(90));

    run(pool, DEFAULTS);

    assertThat(exists(partition)).isFalse();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM clicks WHERE id = ?", click)).isZero();
    Reply r = client.postback(surface, "{\"externalId\":\"old-click\",\"eventType\":\"sale\",\"grossMinor\":1000,"
        + "\"currency\":\"USD\",\"clickId\":\"" + click + "\"}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("status")).isEqualTo("unattributed");
  }

  @Test
  void twoInstancesRunningAtOnceDoTheWorkOnce() {
    LocalDate oldClicks = today().minusDays(100);
    LocalDate oldEvents = today().minusDays(45);
    partition("clicks", "ck", oldClicks);
    partition("events", "evt", oldEvents);
    TestBackends.execute("INSERT INTO events (id, type, data, fanned_out) VALUES ('"
        + Ids.timeOrdered("evt", millis(oldEvents) + 1) + "', 'retention.race', '{}', true)");

    List<Outcome> both = await(Future.all(new PartitionMaintenance(pool, DEFAULTS, new GatewayMetrics()).run(),
        new PartitionMaintenance(otherPool, DEFAULTS, new GatewayMetrics()).run())).list();

    assertThat(both.stream().mapToInt(Outcome::dropped).sum()).isEqualTo(2);
    assertThat(both).anySatisfy(o -> assertThat(o.ranHere()).isTrue());
    assertThat(exists("clicks_p" + oldClicks.toString().replace("-", ""))).isFalse();
    assertThat(exists("events_p" + oldEvents.toString().replace("-", ""))).isFalse();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM events WHERE type = 'retention.race'")).isZero();
  }

  @Test
  void hotLookupsByIdReadOnePartition() throws Exception {
    // A claim's ids come joined from unnest: the generic plan prunes at run time (ANY would probe every
    // partition's key index). docs/scaling.md shows the plans.
    try (var c = TestBackends.jdbc(); var s = c.createStatement()) {
      s.execute("SET plan_cache_mode = force_generic_plan");
      // The join the planner takes once the tables hold rows (the test's nearly empty ones it would read whole).
      s.execute("SET enable_hashjoin = off");
      s.execute("SET enable_mergejoin = off");
      s.execute("PREPARE states(text[]) AS SELECT d.id FROM unnest($1::text[]) AS k(id) JOIN deliveries d ON d.id = k.id");
      String id = Ids.timeOrdered("dlv", Instant.now().plus(Duration.ofDays(2)).toEpochMilli());
      StringBuilder plan = new StringBuilder();
      try (var rs = s.executeQuery("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE states('{" + id + "}')")) {
        while (rs.next()) {
          plan.append(rs.getString(1)).append('\n');
        }
      }
      s.execute("DEALLOCATE states");
      long partitions = TestBackends.queryLong("SELECT count(*) FROM pg_inherits WHERE inhparent = 'deliveries'::regclass");
      long executed = plan.toString().lines().filter(l -> l.contains(" on deliveries_") && !l.contains("never executed")).count();
      assertThat(partitions).isGreaterThan(3);
      assertThat(executed).as(plan.toString()).isEqualTo(1);
    }
  }
}
