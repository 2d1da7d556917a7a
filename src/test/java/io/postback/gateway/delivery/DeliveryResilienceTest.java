package io.postback.gateway.delivery;

import io.postback.gateway.config.Backends;
import io.postback.gateway.delivery.DeliveryFixtures.Endpoint;
import io.postback.gateway.embedded.EmbeddedRedisServer;
import io.postback.gateway.support.Await;
import io.postback.gateway.support.Frozen;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.TestBackends;
import io.postback.gateway.support.WebhookReceiver.Answer;
import io.postback.gateway.support.WebhookReceiver.Received;
import io.postback.gateway.support.WebhookReceiver;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static io.postback.gateway.delivery.DeliveryFixtures.deliveries;
import static io.postback.gateway.delivery.DeliveryFixtures.register;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Nothing lost, nothing sent twice at once: Redis losing its data, two gateways on one queue, a gateway
 * stopped mid-flight, a crashed claimer's lease, a slow endpoint next to a fast one, an endpoint that
 * keeps failing.
 */
class DeliveryResilienceTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static WebhookReceiver receiver;

  @BeforeAll
  static void start() {
    receiver = new WebhookReceiver();
  }

  @AfterAll
  static void stop() {
    receiver.close();
  }

  @AfterEach
  void forget() {
    DeliveryFixtures.forgetEndpoints();
  }

  /** Writes {@code n} outbox events of a type, as any capability would (generic: the type is not special). */
  static void events(String type, int n) {
    TestBackends.execute("INSERT INTO events (id, type, data) SELECT 'evt_" + type.replace('.', '_') + "_' || g, '"
        + type + "', jsonb_build_object('n', g) FROM generate_series(1, " + n + ") g");
  }

  static Set<String> ids(List<Received> received) {
    return received.stream().map(r -> r.header("webhook-id")).collect(Collectors.toSet());
  }

  @Test
  void redisFlushallWithDeliveriesPendingStillDeliversEveryOne() {
    try (RunningGateway gw = RunningGateway.start(DeliveryFixtures.fast("GATEWAY_RETRY_SCHEDULE", "1s,1s,1s"))) {
      DeliveryFixtures.forgetEndpoints();
      AtomicBoolean failing = new AtomicBoolean(true);
      receiver.behave("/flush", (n, r) -> Answer.of(failing.get() ? 503 : 200));
      Endpoint ep = register(gw.client(), receiver.url("/flush"), "flush.test");
      events("flush.test", 50);
      Await.until("every delivery attempted once", WAIT, () -> DeliveryFixtures.attempts(ep.id()) == 50);

      TestBackends.redis("FLUSHALL");
      failing.set(false);

      Await.until("all delivered", WAIT, () -> deliveries(ep.id(), "succeeded") == 50);
      List<Received> ok = receiver.received("/flush").subList(50, receiver.received("/flush").size());
      assertThat(ids(ok)).hasSize(50);
      assertThat(ok).hasSize(50);
    }
  }

  @Test
  void redisLosingItsLeasesMidFlightDoesNotMakeAnotherClaimerSendTheSameAttempt() {
    try (RunningGateway a = RunningGateway.start(DeliveryFixtures.FAST);
         RunningGateway b = RunningGateway.start(DeliveryFixtures.FAST)) {
      DeliveryFixtures.forgetEndpoints();
      receiver.behave("/lost-lease", (n, r) -> new Answer(200, Map.of(), 1_500));
      Endpoint ep = register(a.client(), receiver.url("/lost-lease"), "lostlease.test");
      events("lostlease.test", 20);
      Await.until("all twenty in flight", WAIT, () -> receiver.received("/lost-lease").size() == 20);

      // Leases and schedule gone while every send is still open; the reconcilers run every 200 ms.
      TestBackends.redis("FLUSHALL");
      Await.until("all delivered", WAIT, () -> deliveries(ep.id(), "succeeded") == 20);
      sleep(600);
      // Postgres' half of the claim (leased_until) kept the reconcilers from re-adding them and any other
      // claimer from taking them while they were in flight: each was sent once.
      assertThat(receiver.received("/lost-lease")).hasSize(20);
      assertThat(DeliveryFixtures.attempts(ep.id())).isEqualTo(20);
      assertThat(b).isNotNull();
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void aFrozenRedisDelaysDeliveriesBySecondsNotByALease() throws Exception {
    // A private Redis to freeze; the lease stays at its default (2 min): an orphaned lease would hold the
    // deliveries that long.
    try (EmbeddedRedisServer redis = new EmbeddedRedisServer(null).start();
         RunningGateway gw = RunningGateway.start(new Backends(TestBackends.get().pgUrl(), redis.url(),
             TestBackends.ADMIN_TOKEN), DeliveryFixtures.fast("GATEWAY_RETRY_SCHEDULE", "1s,1s,1s"))) {
      DeliveryFixtures.forgetEndpoints();
      Set<String> failedOnce = ConcurrentHashMap.newKeySet();
      receiver.behave("/frozen-redis", (n, r) -> failedOnce.add(r.header("webhook-id")) ? Answer.of(503) : Answer.of(200));
      Endpoint ep = register(gw.client(), receiver.url("/frozen-redis"), "frozenredis.test");
      events("frozenredis.test", 30);
      // Every first attempt failed and is rescheduled 1 s later, in Redis: due while Redis is frozen.
      Await.until("every first attempt recorded and rescheduled", WAIT, () -> DeliveryFixtures.attempts(ep.id()) == 30
          && "30".equals(redisCount(redis, "ZCARD", DeliveryQueue.SCHEDULE)));

      try (Frozen frozen = Frozen.redis(redis.port())) {
        sleep(15_000);
      }
      long thawedAt = System.currentTimeMillis();

      Await.until("all delivered soon after the thaw", Duration.ofSeconds(30), () -> deliveries(ep.id(), "succeeded") == 30);
      assertThat(System.currentTimeMillis() - thawedAt).as("seconds, not the 2-minute lease").isLessThan(30_000);
      List<Received> got = receiver.received("/frozen-redis");
      assertThat(got).hasSize(60);
      assertThat(ids(got)).hasSize(30);
      assertThat(receiver.maxConcurrentPerWebhookId()).isEqualTo(1);
      assertThat(DeliveryFixtures.attempts(ep.id())).isEqualTo(60);
      Await.until("no lease left behind", WAIT, () -> "0".equals(redisCount(redis, "ZCARD", DeliveryQueue.LEASED)));
    }
  }

  /** A Redis integer reply from a private server, as text. */
  private static String redisCount(EmbeddedRedisServer redis, String... command) {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", redis.port())) {
      socket.setSoTimeout(2_000);
      StringBuilder cmd = new StringBuilder("*" + command.length + "\r\n");
      for (String a : command) {
        cmd.append('$').append(a.length()).append("\r\n").append(a).append("\r\n");
      }
      socket.getOutputStream().write(cmd.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      String line = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
          java.nio.charset.StandardCharsets.UTF_8)).readLine();
      return line.startsWith(":") ? line.substring(1) : line;
    } catch (java.io.IOException e) {
      return "unreachable";
    }
  }

  @Test
  void twoGatewaysOnOneQueueNeverSendTheSameAttemptTwice() {
    // Each gateway holds at most 50 deliveries at once, so neither can take the whole queue in one claim.
    try (RunningGateway a = RunningGateway.start(DeliveryFixtures.fast("GATEWAY_DELIVERY_MAX_IN_FLIGHT", "50"));
         RunningGateway b = RunningGateway.start(DeliveryFixtures.fast("GATEWAY_DELIVERY_MAX_IN_FLIGHT", "50"))) {
      DeliveryFixtures.forgetEndpoints();
      receiver.behave("/shared", (n, r) -> new Answer(200, Map.of(), 5));
      Endpoint ep = register(a.client(), receiver.url("/shared"), "shared.test");
      events("shared.test", 400);

      Await.until("all delivered", WAIT, () -> deliveries(ep.id(), "succeeded") == 400);
      List<Received> got = receiver.received("/shared");
      assertThat(got).hasSize(400);
      assertThat(ids(got)).hasSize(400);
      assertThat(receiver.maxConcurrentPerWebhookId()).isEqualTo(1);
      assertThat(DeliveryFixtures.attempts(ep.id())).isEqualTo(400);
      assertThat(successes(a.client())).as("gateway a delivered some").isPositive();
      assertThat(successes(b.client())).as("gateway b delivered some").isPositive();
    }
  }

  private static double successes(GatewayClient client) {
    for (String line : client.get("/metrics").body().split("\n")) {
      if (line.startsWith("gateway_delivery_attempts_total{kind=\"webhook\",outcome=\"success\"}")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return 0;
  }

  @Test
  void deliveriesInFlightWhenTheGatewayStopsAreDeliveredAfterTheRestart() {
    AtomicBoolean slow = new AtomicBoolean(true);
    receiver.behave("/restart", (n, r) -> slow.get() ? new Answer(200, Map.of(), 3_000) : Answer.of(200));
    Endpoint ep;
    try (RunningGateway first = RunningGateway.start(DeliveryFixtures.FAST)) {
      DeliveryFixtures.forgetEndpoints();
      ep = register(first.client(), receiver.url("/restart"), "restart.test");
      events("restart.test", 10);
      Await.until("all ten in flight", WAIT, () -> receiver.received("/restart").size() == 10);
      assertThat(TestBackends.redis("ZCARD", DeliveryQueue.LEASED)).isEqualTo(":10");
    }
    // Stopped within its grace, before any answer: the claims were handed back, nothing recorded.
    assertThat(DeliveryFixtures.attempts(ep.id())).isZero();
    assertThat(TestBackends.redis("ZCARD", DeliveryQueue.LEASED)).isEqualTo(":0");
    assertThat(deliveries(ep.id(), "pending")).isEqualTo(10);

    slow.set(false);
    try (RunningGateway second = RunningGateway.start(DeliveryFixtures.FAST)) {
      Await.until("all delivered after restart", WAIT, () -> deliveries(ep.id(), "succeeded") == 10);
      assertThat(ids(receiver.received("/restart"))).hasSize(10);
      assertThat(second).isNotNull();
    }
  }

  @Test
  void aCrashedClaimersLeaseExpiresAndTheDeliveryIsSentByAnother() {
    try (RunningGateway gw = RunningGateway.start(DeliveryFixtures.fast("GATEWAY_DELIVERY_INSTANCES", "0"))) {
      DeliveryFixtures.forgetEndpoints();
      Endpoint ep = register(gw.client(), receiver.url("/crash"), "crash.test");
      // The state a claimer leaves when it dies mid-send: leased in Redis and in Postgres (both leases now
      // expired), nothing on the schedule.
      TestBackends.execute("INSERT INTO events (id, type, data, fanned_out) VALUES ('evt_crash_1', 'crash.test', '{}', true)");
      TestBackends.execute("INSERT INTO deliveries (id, event_id, endpoint_id, next_attempt_at, leased_until) VALUES ("
          + "'dlv_crash_1', 'evt_crash_1', '" + ep.id() + "', now() - interval '2 minutes', now() - interval '1 second')");
      TestBackends.redis("ZADD", DeliveryQueue.LEASED, String.valueOf(System.currentTimeMillis() - 1_000), "dlv_crash_1");
    }
    try (RunningGateway gw = RunningGateway.start(DeliveryFixtures.fast("GATEWAY_DELIVERY_RECONCILE_INTERVAL", "1h"))) {
      Await.until("delivered by the survivor", WAIT,
          () -> TestBackends.queryLong("SELECT count(*) FROM deliveries WHERE id = 'dlv_crash_1' AND status = 'succeeded'") == 1);
      assertThat(receiver.received("/crash")).hasSize(1);
      assertThat(gw).isNotNull();
    }
  }

  @Test
  void aSlowEndpointIsCappedAndDoesNotStarveAFastOne() {
    try (RunningGateway gw = RunningGateway.start(DeliveryFixtures.FAST)) {
      DeliveryFixtures.forgetEndpoints();
      receiver.behave("/slowpoke", (n, r) -> new Answer(200, Map.of(), 400));
      Endpoint slowEp = register(gw.client(), new JsonObject().put("url", receiver.url("/slowpoke")).put("maxInFlight", 2),
          "cap.test");
      Endpoint fastEp = register(gw.client(), receiver.url("/quick"), "cap.test");
      long start = System.currentTimeMillis();
      events("cap.test", 20);

      Await.until("fast endpoint done", WAIT, () -> deliveries(fastEp.id(), "succeeded") == 20);
      long fastDone = System.currentTimeMillis() - start;
      Await.until("slow endpoint done", WAIT, () -> deliveries(slowEp.id(), "succeeded") == 20);
      assertThat(receiver.maxConcurrent("/slowpoke")).isEqualTo(2);
      // 20 sends of 400 ms two at a time take about 4 s; the fast endpoint must not wait for them.
      assertThat(fastDone).isLessThan(2_000);
    }
  }

  @Test
  void anEndpointFailingContinuouslyForTheConfiguredPeriodIsDisabled() {
    try (RunningGateway gw = RunningGateway.start(DeliveryFixtures.fast("GATEWAY_ENDPOINT_DISABLE_AFTER", "400ms"))) {
      DeliveryFixtures.forgetEndpoints();
      receiver.behave("/broken", (n, r) -> Answer.of(500));
      Endpoint ep = register(gw.client(), receiver.url("/broken"), "broken.test");
      events("broken.test", 1);
      Await.until("endpoint disabled", WAIT,
          () -> !gw.client().admin("GET", "/admin/webhook-endpoints/" + ep.id(), null).json().getBoolean("enabled"));
      JsonObject endpoint = gw.client().admin("GET", "/admin/webhook-endpoints/" + ep.id(), null).json();
      assertThat(endpoint.getString("disabledReason")).contains("failing continuously");
      assertThat(TestBackends.queryLong("SELECT count(*) FROM events WHERE type = 'endpoint.disabled' AND data->>'endpointId' = ?",
          ep.id())).isEqualTo(1);
      assertThat(deliveries(ep.id(), "pending")).isZero();
    }
  }
}
