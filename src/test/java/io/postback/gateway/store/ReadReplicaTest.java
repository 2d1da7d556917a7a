package io.postback.gateway.store;

import io.postback.gateway.config.Backends;
import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.StreamingReplica;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SPEC §9 / GATEWAY_PG_READ_URL against a real streaming replica: lists and report matches are read
 * from it, look-ups from the primary, and when it dies the primary serves the lists and the metrics say so.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReadReplicaTest {
  private static StreamingReplica servers;
  private static RunningGateway gateway;
  private GatewayClient client;
  private TestSurface surface;

  @BeforeAll
  static void primaryAndReplica() {
    // .ci/run installs the binaries; only a local run without them skips this class.
    Assumptions.assumeTrue(StreamingReplica.available() || System.getenv("CI") != null,
        "Postgres 15 binaries not in " + StreamingReplica.BIN);
    servers = StreamingReplica.start();
    gateway = RunningGateway.start(new Backends(servers.primaryUrl(), TestBackends.get().redisUrl(), TestBackends.ADMIN_TOKEN),
        Map.of("GATEWAY_PG_URL", servers.primaryUrl(), "GATEWAY_PG_READ_URL", servers.replicaUrl()));
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (servers != null) {
      servers.close();
    }
  }

  @BeforeEach
  void newSurface() {
    client = gateway.client();
    surface = client.createSurface();
  }

  @Test
  @Order(1)
  void listsAreReadFromTheReplicaWhileLookUpsSeeTheirOwnWrites() {
    assertThat(post("seen-1")).isEqualTo(200);
    Await.until("the replica has replayed seen-1", Duration.ofSeconds(20), () -> listed().contains("seen-1"));

    servers.pauseReplay();
    try {
      assertThat(post("after-pause")).isEqualTo(200);

      Reply lookUp = client.admin("GET", "/admin/conversions?surfaceId=" + surface.id() + "&externalId=after-pause", null);
      assertThat(lookUp.json().getJsonArray("items")).hasSize(1);
      // The replica stopped replaying before the write: the list, read from it, does not have it yet.
      assertThat(listed()).containsExactly("seen-1");
    } finally {
      servers.resumeReplay();
    }
    Await.until("the replica has replayed after-pause", Duration.ofSeconds(20), () -> listed().contains("after-pause"));
    assertThat(fallbacks()).isZero();
    assertThat(replicaUp()).isEqualTo(1.0);
  }

  @Test
  @Order(2)
  void aReportCountsTheMatchesTheReplicaHas() {
    seed("early", 3);
    Await.until("the replica has the early matches", Duration.ofSeconds(20), () -> "3".equals(servers.queryReplica(
        "SELECT count(*) FROM conversions WHERE surface_id = '" + surface.id() + "'")));
    servers.pauseReplay();
    try {
      seed("late", 2);
      Reply created = client.admin("POST", "/v1/reports/attribution", new JsonObject()
          .put("start_date", "2026-01-01").put("end_date", "2026-01-31").put("campaign_id", surface.id()));
      assertThat(created.status()).isEqualTo(202);
      String id = created.json().getString("id");

      Await.until("report completed", Duration.ofSeconds(30),
          () -> "completed".equals(client.admin("GET", "/v1/reports/" + id, null).json().getString("status")));
      // The matches were read from the replica, which stopped before the late ones.
      assertThat(client.admin("GET", "/v1/reports/" + id, null).json().getInteger("total_matches")).isEqualTo(3);
    } finally {
      servers.resumeReplay();
    }
  }

  @Test
  @Order(3)
  void aDeadReplicaLeavesTheListsToThePrimaryAndTheMetricsSaySo() {
    servers.stopReplica();

    assertThat(post("replica-gone")).isEqualTo(200);
    // Read from the primary at once: the replica could never have replayed a write made after it died.
    assertThat(listed()).containsExactly("replica-gone");
    assertThat(client.admin("GET", "/admin/deliveries", null).status()).isEqualTo(200);
    assertThat(fallbacks()).isPositive();
    assertThat(replicaUp()).isZero();
  }

  private void seed(String prefix, int n) {
    servers.executeOnPrimary("INSERT INTO conversions (id, surface_id, external_id, event_type, occurred_at, status, "
        + "affiliate_id, commission_minor) SELECT 'cv_" + prefix + "_" + surface.id() + "_' || g, '" + surface.id() + "', '"
        + prefix + "-' || g, 'sale', timestamptz '2026-01-05T12:00:00Z', 'attributed', 'aff_replica', 0 "
        + "FROM generate_series(1, " + n + ") g");
  }

  private int post(String externalId) {
    return client.postback(surface, new JsonObject().put("externalId", externalId).put("eventType", "signup").encode()).status();
  }

  private List<String> listed() {
    Reply page = client.admin("GET", "/admin/conversions?surfaceId=" + surface.id(), null);
    assertThat(page.status()).isEqualTo(200);
    return page.json().getJsonArray("items").stream().map(i -> ((JsonObject) i).getString("externalId")).toList();
  }

  private double fallbacks() {
    return gateway.gateway().metrics().registry().get("gateway.pg.read.fallbacks").counter().count();
  }

  private double replicaUp() {
    return gateway.gateway().metrics().registry().get("gateway.dependency.up").tag("dependency", "postgres_replica")
        .gauge().value();
  }
}
