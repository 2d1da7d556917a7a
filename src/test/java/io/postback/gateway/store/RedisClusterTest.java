package io.postback.gateway.store;

import io.postback.gateway.config.Backends;
import io.postback.gateway.delivery.DeliveryQueue;
import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.RedisCluster;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.TestBackends;
import io.postback.gateway.support.WebhookReceiver;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SPEC §9: the gateway on a real Redis Cluster (three masters, three replicas, on loopback): dedupe,
 * clicks, the rate limit and webhook delivery go through it, and a failover under load loses and
 * doubles nothing.
 */
class RedisClusterTest {
  private static final int PARTITIONS = 6;
  private static RedisCluster cluster;
  private static RunningGateway gateway;
  private static WebhookReceiver receiver;
  private GatewayClient client;
  private TestSurface surface;

  @BeforeAll
  static void clusterAndGateway() {
    // .ci/run installs redis-server; only a local run without it skips this class.
    Assumptions.assumeTrue(RedisCluster.available() || System.getenv("CI") != null, "redis-server not on the PATH");
    cluster = RedisCluster.start();
    receiver = new WebhookReceiver();
    Map<String, String> env = new HashMap<>(Map.of(
        "GATEWAY_REDIS_URL", cluster.url(),
        "GATEWAY_DELIVERY_POLL_INTERVAL", "20ms",
        "GATEWAY_DELIVERY_RECONCILE_INTERVAL", "500ms",
        "GATEWAY_RETRY_SCHEDULE", "100ms,200ms,300ms,1s,1s,1s",
        "GATEWAY_DELIVERY_QUEUE_PARTITIONS", String.valueOf(PARTITIONS)));
    gateway = RunningGateway.start(new Backends(TestBackends.get().pgUrl(), cluster.url(), TestBackends.ADMIN_TOKEN), env);
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (receiver != null) {
      receiver.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @BeforeEach
  void newSurface() {
    client = gateway.client();
    surface = client.createSurface();
  }

  @Test
  void aRepeatIsAnsweredFromTheClusterWithTheOriginalOutcome() {
    double fallbacksBefore = redisFallbacks();
    Reply first = client.postback(surface, sale("d-1", null));
    Reply repeat = client.postback(surface, sale("d-1", null));

    assertThat(first.status()).isEqualTo(200);
    assertThat(repeat.json().getBoolean("duplicate")).isTrue();
    assertThat(repeat.json().getString("conversionId")).isEqualTo(first.json().getString("conversionId"));
    assertThat(cluster.command("GET", "dd:" + surface.id() + ":d-1")).contains(first.json().getString("conversionId"));
    assertThat(redisFallbacks()).isEqualTo(fallbacksBefore);
  }

  @Test
  void aClickCachedInTheClusterAttributesTheConversion() {
    String affiliate = client.createAffiliate("active");
    client.createRule(surface, "sale", 500L, null, null);
    String clickId = client.click(client.createLink(surface, affiliate, "https://shop.example/p", null));
    assertThat(cluster.command("EXISTS", "ck:" + clickId)).isEqualTo("1");

    Reply r = client.postback(surface, sale("c-1", clickId));

    assertThat(r.json().getString("status")).isEqualTo("attributed");
    assertThat(r.json().getString("affiliateId")).isEqualTo(affiliate);
  }

  @Test
  void theRateLimitIsHeldInTheCluster() {
    client.admin("PATCH", "/admin/surfaces/" + surface.id(), new JsonObject().put("rateLimitPerSecond", 1).put("rateLimitBurst", 3));
    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      statuses.add(client.postback(surface, sale("rl-" + i, null)).status());
    }
    assertThat(statuses.stream().filter(s -> s == 200).count()).isBetween(3L, 4L);
    assertThat(statuses).contains(429);
    assertThat(cluster.command("EXISTS", "rl:{" + surface.id() + "}")).isEqualTo("1");
  }

  @Test
  void aFailoverUnderLoadLosesAndDoublesNothingAndEveryEventIsDelivered() {
    String path = "/failover-" + surface.id();
    Reply endpoint = client.admin("POST", "/admin/webhook-endpoints", new JsonObject().put("url", receiver.url(path))
        .put("surfaceId", surface.id()).put("eventTypes", new io.vertx.core.json.JsonArray().add("conversion.created")));
    assertThat(endpoint.status()).isEqualTo(201);

    int total = 400;
    Map<String, Reply> replies = new HashMap<>();
    for (int wave = 0; wave < 8; wave++) {
      List<CompletableFuture<Reply>> sent = new ArrayList<>();
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < total / 8; i++) {
        String id = "f-" + (wave * (total / 8) + i);
        ids.add(id);
        sent.add(client.postbackAsync(surface, sale(id, null)));
      }
      if (wave == 2) {
        cluster.failOver(cluster.replicas().get(0));
      }
      for (int i = 0; i < ids.size(); i++) {
        replies.put(ids.get(i), sent.get(i).join());
      }
    }
    long notFirstTime = replies.values().stream().filter(r -> r.status() != 200).count();
    // A merchant retries what was not answered 200; the retry must find the first write.
    for (Map.Entry<String, Reply> e : replies.entrySet()) {
      if (e.getValue().status() != 200) {
        e.setValue(client.postback(surface, sale(e.getKey(), null)));
      }
    }

    assertThat(replies.values()).allSatisfy(r -> assertThat(r.status()).isEqualTo(200));
    long lost = total - TestBackends.queryLong("SELECT count(DISTINCT external_id) FROM conversions WHERE surface_id = ?", surface.id());
    long doubled = TestBackends.queryLong("SELECT count(*) - count(DISTINCT external_id) FROM conversions WHERE surface_id = ?",
        surface.id());
    assertThat(lost).as("conversions lost").isZero();
    assertThat(doubled).as("conversions doubled").isZero();

    Await.until("every conversion.created delivered", Duration.ofSeconds(60),
        () -> distinctDelivered(path).size() == total);
    Map<String, Long> perEvent = receiver.received(path).stream()
        .collect(Collectors.groupingBy(r -> r.header("webhook-id"), Collectors.counting()));
    assertThat(perEvent.values()).as("deliveries per event").allSatisfy(n -> assertThat(n).isEqualTo(1L));
    System.out.printf("failover under load: %d postbacks, %d not answered 200 at first, %d lost, %d doubled, "
        + "%d of %d events delivered, %d delivered twice%n", total, notFirstTime, lost, doubled, distinctDelivered(path).size(),
        total, perEvent.values().stream().filter(n -> n > 1).count());

    Await.until("every delivery recorded succeeded", Duration.ofSeconds(30), () -> TestBackends.queryLong(
        "SELECT count(*) FROM deliveries WHERE endpoint_id = ? AND status = 'succeeded'", endpoint.json().getString("id")) == total);

    // Reconnected by itself: a new postback's outcome is in the cluster again, and its repeat answered from there.
    cluster.awaitHealthy();
    Await.until("dedupe through the cluster again", Duration.ofSeconds(30), () -> {
      String id = "after-" + System.nanoTime();
      return client.postback(surface, sale(id, null)).status() == 200
          && !cluster.command("GET", "dd:" + surface.id() + ":" + id).isEmpty();
    });
  }

  @Test
  void theDeliveryScheduleSpreadsOverTheThreeMasters() {
    DeliveryQueue queue = new DeliveryQueue(null, PARTITIONS);
    java.util.Set<Integer> thirds = new java.util.HashSet<>();
    for (int p = 0; p < PARTITIONS; p++) {
      String[] keys = queue.keys(p);
      int slot = Integer.parseInt(cluster.command("CLUSTER", "KEYSLOT", keys[0]));
      assertThat(cluster.command("CLUSTER", "KEYSLOT", keys[1])).isEqualTo(String.valueOf(slot));
      // redis-cli --cluster create gives each of the three masters a third of the 16,384 slots.
      thirds.add(slot * 3 / 16_384);
    }
    assertThat(thirds).containsExactlyInAnyOrder(0, 1, 2);
  }

  private java.util.Set<String> distinctDelivered(String path) {
    return receiver.received(path).stream().map(r -> r.json().getJsonObject("data").getString("externalId"))
        .collect(Collectors.toSet());
  }

  private static double redisFallbacks() {
    return gateway.gateway().metrics().registry().get("gateway.redis.fallbacks").tag("operation", "dedupe_claim")
        .counter().count();
  }

  private static String sale(String externalId, String clickId) {
    return "{\"externalId\":\"" + externalId + "\",\"eventType\":\"sale\",\"grossMinor\":1000,\"currency\":\"USD\""
        + (clickId == null ? "" : ",\"clickId\":\"" + clickId + "\"") + "}";
  }
}
