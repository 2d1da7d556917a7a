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
 * SPEC §9 / GATEWAY_PG_READ_URL against a real streaming replica: lists are read from it, look-ups
 * from the primary, and when it dies the primary serves the lists and the metrics say so.
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
  void aDeadReplicaLeavesTheListsToThePrimaryAndTheMetricsSaySo() {
    servers.stopReplica();

    assertThat(post("replica-gone")).isEqualTo(200);
    // Read from the primary at once: the replica could never have replayed a write made after it died.
    assertThat(listed()).containsExactly("replica-gone");
    assertThat(client.admin("GET", "/admin/deliveries", null).status()).isEqualTo(200);
    assertThat(fallbacks()).isPositive();
    assertThat(replicaUp()).isZero();
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
