package io.postback.gateway.delivery;

import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Affiliate postbacks ride the delivery queue, so its guarantees hold for them: two gateways on one
 * queue send each attempt once, and Redis losing the schedule loses no postback.
 */
class AffiliatePostbackResilienceTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static Tracker tracker;

  @BeforeAll
  static void start() {
    tracker = new Tracker();
  }

  @AfterAll
  static void stop() {
    tracker.close();
  }

  @AfterEach
  void forget() {
    DeliveryFixtures.forgetEndpoints();
    tracker.answer(n -> 200);
  }

  /** An affiliate with a promo-code link on a new surface, a flat 4.99 rule, and a template at {@code path}. */
  private static TestSurface program(GatewayClient client, String path) {
    TestSurface surface = client.createSurface();
    String affiliate = client.createAffiliate("active");
    client.createRule(surface, "sale", 499L, null, null);
    client.createLink(surface, affiliate, "https://shop.example/", "CODE");
    assertThat(client.admin("POST", "/admin/affiliates/" + affiliate + "/postbacks",
        new JsonObject().put("url", tracker.url(path + "?tx={txid}&p={payout}"))).status()).isEqualTo(201);
    return surface;
  }

  private static void sales(GatewayClient client, TestSurface surface, String prefix, int n) {
    for (int i = 0; i < n; i++) {
      assertThat(client.postback(surface, "{\"externalId\":\"" + prefix + i + "\",\"eventType\":\"sale\","
          + "\"grossMinor\":4999,\"currency\":\"USD\",\"promoCode\":\"CODE\"}").json().getString("status"))
          .isEqualTo("attributed");
    }
  }

  private static long succeeded(String path) {
    return TestBackends.queryLong("SELECT count(*) FROM deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id "
        + "WHERE e.url LIKE ? AND d.status = 'succeeded'", "%" + path + "%");
  }

  private static long attempts(String path) {
    return TestBackends.queryLong("SELECT count(*) FROM delivery_attempts a JOIN webhook_endpoints e ON e.id = a.endpoint_id "
        + "WHERE e.url LIKE ?", "%" + path + "%");
  }

  @Test
  void twoGatewaysOnOneQueueSendEachPostbackAttemptOnce() {
    try (RunningGateway a = RunningGateway.start(DeliveryFixtures.fast("GATEWAY_DELIVERY_MAX_IN_FLIGHT", "20"));
         RunningGateway b = RunningGateway.start(DeliveryFixtures.fast("GATEWAY_DELIVERY_MAX_IN_FLIGHT", "20"))) {
      String path = "/pb-two-" + System.nanoTime();
      TestSurface surface = program(a.client(), path);
      sales(a.client(), surface, "two-", 60);

      Await.until("all delivered", WAIT, () -> succeeded(path) == 60);
      List<Tracker.Request> got = tracker.requests(path);
      Map<String, Long> perTxid = got.stream().collect(Collectors.groupingBy(r -> r.query().get("tx"), Collectors.counting()));
      assertThat(perTxid).hasSize(60);
      assertThat(perTxid.values()).allSatisfy(n -> assertThat(n).isEqualTo(1));
      assertThat(attempts(path)).isEqualTo(60);
      assertThat(got).allSatisfy(r -> assertThat(r.query().get("p")).isEqualTo("4.99"));
    }
  }

  @Test
  void redisFlushallWithPostbacksPendingStillDeliversEveryOne() {
    try (RunningGateway gw = RunningGateway.start(DeliveryFixtures.fast("GATEWAY_RETRY_SCHEDULE", "1s,1s,1s"))) {
      String path = "/pb-flush-" + System.nanoTime();
      tracker.answer(n -> 503);
      TestSurface surface = program(gw.client(), path);
      sales(gw.client(), surface, "flush-", 30);
      Await.until("every postback attempted once", WAIT, () -> attempts(path) >= 30);
      int failedSends = tracker.requests(path).size();

      TestBackends.redis("FLUSHALL");
      tracker.answer(n -> 200);

      Await.until("all delivered", WAIT, () -> succeeded(path) == 30);
      List<Tracker.Request> after = tracker.requests(path).subList(failedSends, tracker.requests(path).size());
      Map<String, Long> perTxid = after.stream().collect(Collectors.groupingBy(r -> r.query().get("tx"), Collectors.counting()));
      assertThat(perTxid).hasSize(30);
      assertThat(perTxid.values()).allSatisfy(n -> assertThat(n).isEqualTo(1));
    }
  }
}
