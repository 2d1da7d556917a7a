package io.postback.gateway.delivery;

import io.postback.gateway.delivery.DeliveryFixtures.Endpoint;
import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.StandardWebhooksNode;
import io.postback.gateway.support.TestBackends;
import io.postback.gateway.support.WebhookReceiver;
import io.postback.gateway.support.WebhookReceiver.Answer;
import io.postback.gateway.support.WebhookReceiver.Received;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.postback.gateway.delivery.DeliveryFixtures.attempts;
import static io.postback.gateway.delivery.DeliveryFixtures.deliveries;
import static io.postback.gateway.delivery.DeliveryFixtures.expectedSignature;
import static io.postback.gateway.delivery.DeliveryFixtures.register;
import static org.assertj.core.api.Assertions.assertThat;

/** Outbound webhooks against a real local receiver: signing, retries, timeouts, Retry-After, 410, dead letters, replay. */
class WebhookDeliveryTest {
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static RunningGateway gateway;
  private static WebhookReceiver receiver;
  private GatewayClient client;
  private TestSurface surface;

  @BeforeAll
  static void start() {
    gateway = RunningGateway.start(DeliveryFixtures.FAST);
    DeliveryFixtures.forgetEndpoints();
    receiver = new WebhookReceiver();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    receiver.close();
  }

  @BeforeEach
  void newSurface() {
    client = gateway.client();
    surface = client.createSurface();
  }

  @AfterEach
  void forget() {
    DeliveryFixtures.forgetEndpoints();
  }

  static String sale(String externalId) {
    return "{\"externalId\":\"" + externalId + "\",\"eventType\":\"sale\",\"grossMinor\":4999,\"currency\":\"USD\"}";
  }

  private void postback(String externalId) {
    assertThat(client.postback(surface, sale(externalId)).status()).isEqualTo(200);
  }

  @Test
  void conversionIsDeliveredSignedAndVerifiedByTheStandardWebhooksLibrary() throws Exception {
    Endpoint ep = register(client, receiver.url("/signed"), "conversion.created");
    postback("sig-1");

    Await.until("one delivery", WAIT, () -> receiver.received("/signed").size() == 1);
    Received got = receiver.received("/signed").get(0);
    JsonObject payload = got.json();
    assertThat(payload.getString("event")).isEqualTo("conversion.created");
    assertThat(payload.getString("id")).startsWith("evt_").isEqualTo(got.header("webhook-id"));
    assertThat(payload.getString("timestamp")).isNotBlank();
    assertThat(payload.getJsonObject("data").getString("externalId")).isEqualTo("sig-1");
    assertThat(Math.abs(Long.parseLong(got.header("webhook-timestamp")) - System.currentTimeMillis() / 1000)).isLessThan(30);
    assertThat(got.header("webhook-signature"))
        .isEqualTo(expectedSignature(ep.secret(), got.header("webhook-id"), got.header("webhook-timestamp"), got.body()));
    assertThat(got.header("content-type")).isEqualTo("application/json");

    assertThat(StandardWebhooksNode.verify(ep.secret(), List.of(got))).isEqualTo("verified 1");
    Await.until("delivery succeeded", WAIT, () -> deliveries(ep.id(), "succeeded") == 1);
  }

  @Test
  void duringSecretRotationBothSignaturesAreSentAndEitherSecretVerifies() throws Exception {
    Endpoint ep = register(client, receiver.url("/rotated"), "conversion.created");
    Reply rotated = client.admin("POST", "/admin/webhook-endpoints/" + ep.id() + "/secrets", new JsonObject());
    assertThat(rotated.status()).isEqualTo(201);
    String newSecret = rotated.json().getString("secret");
    postback("rot-1");

    Await.until("one delivery", WAIT, () -> receiver.received("/rotated").size() == 1);
    Received got = receiver.received("/rotated").get(0);
    String[] signatures = got.header("webhook-signature").split(" ");
    assertThat(signatures).containsExactly(
        expectedSignature(newSecret, got.header("webhook-id"), got.header("webhook-timestamp"), got.body()),
        expectedSignature(ep.secret(), got.header("webhook-id"), got.header("webhook-timestamp"), got.body()));
    StandardWebhooksNode.verify(newSecret, List.of(got));
    StandardWebhooksNode.verify(ep.secret(), List.of(got));
  }

  @Test
  void receiverFailingTwiceThenSucceedingGivesExactlyOneSuccessAndThreeAttempts() {
    receiver.behave("/flaky", (n, r) -> Answer.of(n <= 2 ? 500 : 200));
    Endpoint ep = register(client, receiver.url("/flaky"), "conversion.created");
    postback("flaky-1");

    Await.until("delivery succeeded", WAIT, () -> deliveries(ep.id(), "succeeded") == 1);
    List<Received> got = receiver.received("/flaky");
    assertThat(got).hasSize(3);
    assertThat(got).extracting(r -> r.header("webhook-id")).containsOnly(got.get(0).header("webhook-id"));
    assertThat(got).extracting(Received::body).containsOnly(got.get(0).body());
    assertThat(attempts(ep.id())).isEqualTo(3);

    JsonArray log = client.admin("GET", "/admin/webhook-endpoints/" + ep.id() + "/attempts", null).json().getJsonArray("items");
    assertThat(log).hasSize(3);
    assertThat(log.getJsonObject(0).getString("outcome")).isEqualTo("success");
    assertThat(log.getJsonObject(0).getInteger("attempt")).isEqualTo(3);
    assertThat(log.getJsonObject(1).getInteger("statusCode")).isEqualTo(500);
    assertThat(log.getJsonObject(1).getString("responseBody")).isEqualTo("answer 500");
    assertThat(log.getJsonObject(2).getInteger("attempt")).isEqualTo(1);

    JsonObject health = client.admin("GET", "/admin/webhook-endpoints/" + ep.id() + "/health", null).json();
    assertThat(health.getLong("attempts")).isEqualTo(3);
    assertThat(health.getDouble("successRate")).isCloseTo(1.0 / 3, org.assertj.core.data.Offset.offset(0.001));
    assertThat(health.getDouble("averageLatencyMs")).isNotNull();
    assertThat(health.getJsonObject("lastError").getInteger("statusCode")).isEqualTo(500);
  }

  @Test
  void aReceiverThatDoesNotAnswerInTimeIsATimeoutAndIsRetried() {
    receiver.behave("/slow", (n, r) -> n == 1 ? new Answer(200, Map.of(), 3_000) : Answer.of(200));
    Endpoint ep = register(client, new JsonObject().put("url", receiver.url("/slow")).put("timeoutMs", 300),
        "conversion.created");
    postback("slow-1");

    Await.until("delivery succeeded", WAIT, () -> deliveries(ep.id(), "succeeded") == 1);
    JsonArray log = client.admin("GET", "/admin/webhook-endpoints/" + ep.id() + "/attempts", null).json().getJsonArray("items");
    assertThat(log).hasSize(2);
    assertThat(log.getJsonObject(1).getString("outcome")).isEqualTo("timeout");
    assertThat(log.getJsonObject(1).getInteger("latencyMs")).isBetween(250, 2_000);
    assertThat(log.getJsonObject(0).getString("outcome")).isEqualTo("success");
    assertThat(gateway.client().get("/metrics").body()).contains("gateway_delivery_attempts_total{kind=\"webhook\",outcome=\"timeout\"}");
  }

  @Test
  void aHostileReceiversAnswerIsRecordedAsSafeTextAndRetriedOnSchedule() throws Exception {
    // First answers: a NUL and bytes that are not UTF-8; 5 MB of body. Then 200.
    byte[] poisoned = {'b', 'a', 'd', 0, 'b', 'o', 'd', 'y', (byte) 0xFF, (byte) 0xFE, (byte) 0xC0, 'x'};
    byte[] huge = new byte[5 * 1024 * 1024];
    java.util.Arrays.fill(huge, (byte) 'h');
    java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
    receiver.behave("/poison", (n, r) -> seen.add("p" + r.header("webhook-id")) ? Answer.withBody(500, poisoned)
        : Answer.of(200));
    receiver.behave("/huge", (n, r) -> seen.add("h" + r.header("webhook-id")) ? Answer.withBody(500, huge)
        : Answer.of(200));
    Endpoint poison = register(client, receiver.url("/poison"), "conversion.created");
    Endpoint big = register(client, receiver.url("/huge"), "conversion.created");
    Endpoint good = register(client, receiver.url("/fine"), "conversion.created");
    for (int i = 0; i < 5; i++) {
      postback("hostile-" + i);
    }

    // Recorded and retried on the schedule (~100 ms), not re-sent at lease expiry (minutes).
    Await.until("every delivery succeeded", WAIT, () -> deliveries(poison.id(), "succeeded") == 5
        && deliveries(big.id(), "succeeded") == 5 && deliveries(good.id(), "succeeded") == 5);
    assertThat(attempts(poison.id())).isEqualTo(10);
    assertThat(attempts(big.id())).isEqualTo(10);
    assertThat(attempts(good.id())).isEqualTo(5);
    assertThat(receiver.received("/poison")).hasSize(10);
    JsonArray log = client.admin("GET", "/admin/webhook-endpoints/" + poison.id() + "/attempts", null).json()
        .getJsonArray("items");
    String stored = log.stream().map(o -> ((JsonObject) o).getString("responseBody"))
        .filter(b -> b != null && b.startsWith("bad")).findFirst().orElseThrow();
    assertThat(stored).doesNotContain("\u0000").startsWith("bad\uFFFDbody\uFFFD").endsWith("x");
    assertThat(TestBackends.queryLong("SELECT max(length(response_body)) FROM delivery_attempts WHERE endpoint_id = ?",
        big.id())).isEqualTo(1024);
  }

  @Test
  void retryAfterIsHonouredInsteadOfTheSchedule() {
    receiver.behave("/busy", (n, r) -> n == 1 ? new Answer(503, Map.of("Retry-After", "2"), 0) : Answer.of(200));
    Endpoint ep = register(client, receiver.url("/busy"), "conversion.created");
    postback("busy-1");

    Await.until("delivery succeeded", WAIT, () -> deliveries(ep.id(), "succeeded") == 1);
    List<Received> got = receiver.received("/busy");
    assertThat(got).hasSize(2);
    // The schedule says ~100 ms; the receiver asked for 2 s.
    assertThat(got.get(1).atMillis() - got.get(0).atMillis()).isGreaterThanOrEqualTo(1_900);
  }

  @Test
  void goneDisablesTheEndpointAndSaysSoInAnEventAndAMetric() {
    receiver.behave("/gone", (n, r) -> Answer.of(410));
    Endpoint ep = register(client, receiver.url("/gone"), "conversion.created");
    Endpoint watcher = register(client, receiver.url("/watcher"), "endpoint.disabled");
    postback("gone-1");

    Await.until("delivery dead", WAIT, () -> deliveries(ep.id(), "dead") == 1);
    assertThat(receiver.received("/gone")).hasSize(1);
    // The attempt is recorded (dead) first; the endpoint is disabled right after, in its own transaction.
    Await.until("endpoint disabled", WAIT, () -> TestBackends.queryLong(
        "SELECT count(*) FROM webhook_endpoints WHERE id = ? AND NOT enabled", ep.id()) == 1);
    JsonObject endpoint = client.admin("GET", "/admin/webhook-endpoints/" + ep.id(), null).json();
    assertThat(endpoint.getString("disabledReason")).contains("410");
    Await.until("endpoint.disabled delivered", WAIT, () -> receiver.received("/watcher").size() == 1);
    JsonObject event = receiver.received("/watcher").get(0).json();
    assertThat(event.getString("event")).isEqualTo("endpoint.disabled");
    assertThat(event.getJsonObject("data").getString("endpointId")).isEqualTo(ep.id());
    assertThat(client.get("/metrics").body()).containsPattern("gateway_webhook_endpoints_disabled_total(\\{[^}]*\\})? [1-9]");

    // A disabled endpoint is sent nothing new: the event is recorded as a skipped delivery (replayable).
    postback("gone-2");
    Await.until("the second event fanned out", WAIT,
        () -> TestBackends.queryLong("SELECT count(*) FROM events WHERE NOT fanned_out") == 0);
    assertThat(deliveries(ep.id(), "skipped")).isEqualTo(1);
    assertThat(deliveries(ep.id(), "pending")).isZero();
    assertThat(receiver.received("/gone")).hasSize(1);
    assertThat(watcher.id()).isNotNull();
  }

  @Test
  void aDeliveryIsDeadAfterTheLastAttemptListedAndThenReplayed() {
    receiver.behave("/down", (n, r) -> Answer.of(n <= 4 ? 500 : 204));
    Endpoint ep = register(client, receiver.url("/down"), "conversion.created");
    postback("down-1");

    Await.until("delivery dead", WAIT, () -> deliveries(ep.id(), "dead") == 1);
    assertThat(receiver.received("/down")).hasSize(4);
    JsonArray dead = client.admin("GET", "/admin/deliveries?status=dead&endpointId=" + ep.id(), null).json().getJsonArray("items");
    assertThat(dead).hasSize(1);
    String deliveryId = dead.getJsonObject(0).getString("id");
    assertThat(dead.getJsonObject(0).getInteger("attempts")).isEqualTo(4);
    Await.until("dead gauge", WAIT, () -> client.get("/metrics").body()
        .matches("(?s).*gateway_delivery_queue_depth\\{state=\"dead\"} [1-9].*"));

    Reply replay = client.admin("POST", "/admin/deliveries/" + deliveryId + "/replay", null);
    assertThat(replay.status()).isEqualTo(202);
    Await.until("replayed delivery succeeded", WAIT, () -> deliveries(ep.id(), "succeeded") == 1);
    assertThat(receiver.received("/down")).hasSize(5);
    JsonObject one = client.admin("GET", "/admin/deliveries/" + deliveryId, null).json();
    assertThat(one.getString("status")).isEqualTo("succeeded");
    assertThat(one.getJsonArray("attemptLog")).hasSize(5);
    assertThat(client.admin("POST", "/admin/deliveries/" + deliveryId + "/replay", null).status()).isEqualTo(202);
  }

  @Test
  void allDeadDeliveriesOfAnEndpointSinceATimeAreReplayed() {
    receiver.behave("/outage", (n, r) -> Answer.of(n <= 12 ? 503 : 200));
    Endpoint ep = register(client, receiver.url("/outage"), "conversion.created");
    postback("out-1");
    postback("out-2");
    postback("out-3");
    Await.until("three dead", WAIT, () -> deliveries(ep.id(), "dead") == 3);

    Reply replay = client.admin("POST", "/admin/webhook-endpoints/" + ep.id() + "/replay?since=2020-01-01T00:00:00Z", null);
    assertThat(replay.status()).isEqualTo(202);
    assertThat(replay.json().getInteger("replayed")).isEqualTo(3);
    Await.until("all succeeded", WAIT, () -> deliveries(ep.id(), "succeeded") == 3);
    assertThat(client.admin("POST", "/admin/webhook-endpoints/" + ep.id() + "/replay?since=yesterday", null).status())
        .isEqualTo(400);
  }

  @Test
  void sendTestDeliversAnEndpointTestEventToThatEndpointOnly() {
    Endpoint ep = register(client, receiver.url("/test-a"));
    Endpoint other = register(client, receiver.url("/test-b"));
    Reply r = client.admin("POST", "/admin/webhook-endpoints/" + ep.id() + "/test", null);
    assertThat(r.status()).isEqualTo(202);
    Await.until("test delivered", WAIT, () -> receiver.received("/test-a").size() == 1);
    assertThat(receiver.received("/test-a").get(0).json().getString("event")).isEqualTo("endpoint.test");
    assertThat(receiver.received("/test-b")).isEmpty();
    assertThat(other.id()).isNotEqualTo(ep.id());
    assertThat(client.admin("POST", "/admin/webhook-endpoints/whe_nope/test", null).status()).isEqualTo(404);
  }

  @Test
  void payoutChangesAreDeliveredAsPayoutEvents() {
    register(client, receiver.url("/payouts"), "payout.initiated", "payout.completed", "payout.failed");
    client.admin("POST", "/admin/affiliates", new JsonObject().put("id", "aff_1").put("name", "Payee"));
    Reply created = client.admin("POST", "/admin/payouts",
        new JsonObject().put("affiliateId", "aff_1").put("amountMinor", 12_500).put("currency", "EUR"));
    assertThat(created.status()).isEqualTo(201);
    String id = created.json().getString("id");
    Reply done = client.admin("PATCH", "/admin/payouts/" + id, new JsonObject().put("status", "completed"));
    assertThat(done.status()).isEqualTo(200);
    assertThat(client.admin("PATCH", "/admin/payouts/" + id, new JsonObject().put("status", "failed")).status()).isEqualTo(409);
    assertThat(client.admin("POST", "/admin/payouts", new JsonObject().put("affiliateId", "a").put("amountMinor", -1)
        .put("currency", "EUR")).status()).isEqualTo(400);

    Await.until("two payout events", WAIT, () -> receiver.received("/payouts").size() == 2);
    assertThat(receiver.received("/payouts")).extracting(x -> x.json().getString("event"))
        .containsExactlyInAnyOrder("payout.initiated", "payout.completed");
    assertThat(receiver.received("/payouts").get(0).json().getJsonObject("data").getLong("amountMinor")).isEqualTo(12_500);
  }

  @Test
  void endpointsAreManagedThroughTheAdminApi() {
    Reply bad = client.admin("POST", "/admin/webhook-endpoints", new JsonObject().put("url", "ftp://example.com/x"));
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.json().getString("field")).isEqualTo("url");
    assertThat(client.admin("POST", "/admin/webhook-endpoints", new JsonObject().put("url", receiver.url("/m"))
        .put("timeoutMs", 60_000)).status()).isEqualTo(400);
    Endpoint ep = register(client, receiver.url("/m"), "conversion.created");
    assertThat(ep.secret()).startsWith("whsec_");
    Reply got = client.admin("GET", "/admin/webhook-endpoints/" + ep.id(), null);
    assertThat(got.json().containsKey("secret")).isFalse();
    Reply patched = client.admin("PATCH", "/admin/webhook-endpoints/" + ep.id(),
        new JsonObject().put("description", "CRM").put("enabled", false));
    assertThat(patched.json().getBoolean("enabled")).isFalse();
    assertThat(patched.json().getString("description")).isEqualTo("CRM");
    assertThat(client.admin("GET", "/admin/webhook-endpoints", null).json().getJsonArray("items")).isNotEmpty();
    assertThat(client.admin("DELETE", "/admin/webhook-endpoints/" + ep.id(), null).status()).isEqualTo(200);
    assertThat(client.admin("GET", "/admin/webhook-endpoints/" + ep.id(), null).status()).isEqualTo(404);
    assertThat(client.get("/admin/webhook-endpoints").status()).isEqualTo(401);
  }

  @Test
  void deliveriesWaitingForARetryCountAsPendingInTheQueueDepthGauge() {
    receiver.behave("/later", (n, r) -> new Answer(503, Map.of("Retry-After", "60"), 0));
    Endpoint ep = register(client, receiver.url("/later"), "conversion.created");
    postback("later-1");
    postback("later-2");
    postback("later-3");
    Await.until("three pending after one attempt each", WAIT, () -> attempts(ep.id()) == 3);
    Await.until("pending gauge", WAIT, () -> pendingGauge() >= 3);
    assertThat(deliveries(ep.id(), "pending")).isEqualTo(3);
  }

  private double pendingGauge() {
    for (String line : client.get("/metrics").body().split("\n")) {
      if (line.startsWith("gateway_delivery_queue_depth{state=\"pending\"}")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return -1;
  }

  @Test
  void queueDepthAndAttemptMetricsAreExported() {
    String metrics = client.get("/metrics").body();
    assertThat(metrics).contains("gateway_delivery_queue_depth{state=\"pending\"}")
        .contains("gateway_delivery_queue_depth{state=\"in_flight\"}")
        .contains("gateway_delivery_queue_depth{state=\"dead\"}")
        .contains("gateway_delivery_attempts_total{kind=\"webhook\",outcome=\"success\"}")
        .contains("gateway_delivery_attempt_duration_seconds_bucket")
        .contains("gateway_webhook_endpoints_disabled_total");
  }
}
