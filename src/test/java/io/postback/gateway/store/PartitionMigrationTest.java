package io.postback.gateway.store;

import io.postback.gateway.config.Backends;
import io.postback.gateway.config.PostgresUrl;
import io.postback.gateway.ids.Ids;
import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.TestBackends;
import io.postback.gateway.support.WebhookReceiver;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * V110 converts a database that has data: a schema at V100 with clicks, events (one with a legacy 28-hex id
 * not fanned out yet), deliveries and attempts is migrated to the partitioned tables; every row is kept
 * (in the default partitions) and a gateway works on it: the legacy event is delivered, the old click
 * attributes a postback, a new click is recorded.
 */
class PartitionMigrationTest {
  private static final String DB = "migrate_v100";
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String[] TABLES = {"clicks", "events", "deliveries", "delivery_attempts"};

  @Test
  void aDatabaseWithRowsIsConvertedAndTheGatewayWorksOnIt() throws Exception {
    TestBackends.execute("DROP DATABASE IF EXISTS " + DB + " WITH (FORCE)");
    TestBackends.execute("CREATE DATABASE " + DB);
    String base = TestBackends.get().pgUrl();
    String url = base.substring(0, base.lastIndexOf('/') + 1) + DB;
    PostgresUrl pg = new PostgresUrl(url);
    Flyway.configure().dataSource(pg.jdbcUrl(), pg.user(), pg.password()).locations("classpath:db/migration")
        .target("100").load().migrate();

    try (WebhookReceiver receiver = new WebhookReceiver(); Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
         Statement s = c.createStatement()) {
      String click = Ids.timeOrdered("ck");
      String legacyEvent = "evt_019e0123456789abcdef01234567";
      String secret = "whsec_" + Base64.getEncoder().encodeToString(new byte[32]);
      s.execute("INSERT INTO surfaces (id, name, secret) VALUES ('mig_srf', 'migrated', 'pbs_migrated-secret-0123456789')");
      s.execute("INSERT INTO affiliates (id, name, status) VALUES ('mig_aff', 'migrated', 'active')");
      s.execute("INSERT INTO links (code, surface_id, affiliate_id, destination_url) "
          + "VALUES ('migcode', 'mig_srf', 'mig_aff', 'https://shop.example/')");
      s.execute("INSERT INTO clicks (id, link_code, surface_id, affiliate_id, clicked_at, sub1) "
          + "VALUES ('" + click + "', 'migcode', 'mig_srf', 'mig_aff', now() - interval '1 hour', 'before')");
      s.execute("INSERT INTO webhook_endpoints (id, url, secret, event_types) VALUES ('whe_mig', '"
          + receiver.url("/migrated") + "', '" + secret + "', '{legacy.test,conversion.created}')");
      s.execute("INSERT INTO events (id, type, data) VALUES ('" + legacyEvent + "', 'legacy.test', '{\"n\":1}')");
      s.execute("INSERT INTO events (id, type, data, fanned_out) SELECT time_ordered_id('evt'), 'legacy.done', '{}', true "
          + "FROM generate_series(1, 50)");
      s.execute("INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts) SELECT time_ordered_id('dlv'), id, "
          + "'whe_mig', 'succeeded', 1 FROM events WHERE type = 'legacy.done'");
      s.execute("INSERT INTO delivery_attempts (delivery_id, endpoint_id, attempt, attempted_at, outcome, latency_ms) "
          + "SELECT id, 'whe_mig', 1, now(), 'success', 3 FROM deliveries");
      long[] before = counts(s);

      Flyway.configure().dataSource(pg.jdbcUrl(), pg.user(), pg.password()).locations("classpath:db/migration").load()
          .migrate();

      assertThat(counts(s)).isEqualTo(before);
      for (String table : TABLES) {
        try (ResultSet rs = s.executeQuery("SELECT DISTINCT tableoid::regclass::text FROM " + table)) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getString(1)).isEqualTo(table + "_default");
        }
        try (ResultSet rs = s.executeQuery("SELECT relkind FROM pg_class WHERE relname = '" + table + "'")) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getString(1)).as(table + " is partitioned").isEqualTo("p");
        }
      }

      try (RunningGateway gw = RunningGateway.start(new Backends(url, TestBackends.get().redisUrl(), TestBackends.ADMIN_TOKEN),
          Map.of("GATEWAY_DELIVERY_POLL_INTERVAL", "20ms", "GATEWAY_DELIVERY_RECONCILE_INTERVAL", "200ms",
              "GATEWAY_DEMO_SURFACE", "false"))) {
        // The legacy event is fanned out and delivered.
        Await.until("the legacy event delivered", WAIT, () -> receiver.received("/migrated").stream()
            .anyMatch(r -> legacyEvent.equals(r.header("webhook-id"))));
        // The pre-migration click attributes a postback (a click lookup in Postgres: Redis never had it).
        TestSurface surface = new TestSurface("mig_srf", "pbs_migrated-secret-0123456789");
        Reply r = gw.client().postback(surface, "{\"externalId\":\"after-migration\",\"eventType\":\"sale\","
            + "\"grossMinor\":1000,\"currency\":\"USD\",\"clickId\":\"" + click + "\"}");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().getString("status")).isEqualTo("attributed");
        assertThat(r.json().getString("affiliateId")).isEqualTo("mig_aff");
        Await.until("its conversion.created delivered", WAIT, () -> receiver.received("/migrated").size() >= 2);
        // A new click is recorded.
        String fresh = gw.client().click("migcode");
        try (ResultSet rs = s.executeQuery("SELECT count(*) FROM clicks WHERE id = '" + fresh + "'")) {
          rs.next();
          assertThat(rs.getLong(1)).isEqualTo(1);
        }
        try (ResultSet rs = s.executeQuery("SELECT status FROM deliveries WHERE event_id = '" + legacyEvent + "'")) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getString(1)).isEqualTo("succeeded");
        }
      }
    } finally {
      TestBackends.execute("DROP DATABASE IF EXISTS " + DB + " WITH (FORCE)");
    }
  }

  private static long[] counts(Statement s) throws SQLException {
    long[] out = new long[TABLES.length];
    for (int i = 0; i < TABLES.length; i++) {
      try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + TABLES[i])) {
        rs.next();
        out[i] = rs.getLong(1);
      }
    }
    return out;
  }
}
