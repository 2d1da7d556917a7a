package io.postback.gateway.ingest;

import io.postback.gateway.config.Backends;
import io.postback.gateway.embedded.EmbeddedPostgresServer;
import io.postback.gateway.embedded.EmbeddedRedisServer;
import io.postback.gateway.support.Await;
import io.postback.gateway.support.Frozen;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.TestBackends;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A frozen (SIGSTOP) or stopped Postgres of the test's own: nothing waits without limit, nothing is lost
 * or doubled. Requests are answered within the deadline (503 + Retry-After) instead of hanging; work that
 * commits after its 503 is answered as a duplicate when the sender retries; a full write queue answers
 * 503 at once; the dependency gauge follows Postgres without anyone calling /health/ready.
 */
class FrozenPostgresTest {
  private static final long DEADLINE_MS = 2_000;
  // The machine is shared and timings swing 2-3x: the bound is the deadline plus generous slack.
  private static final long ANSWER_BOUND_MS = DEADLINE_MS + 4_000;
  private static final Pattern POSTGRES_DOWN = Pattern.compile("gateway_dependency_up\\{dependency=\"postgres\"} 0");
  private static final Pattern POSTGRES_UP = Pattern.compile("gateway_dependency_up\\{dependency=\"postgres\"} 1");
  private static EmbeddedPostgresServer postgres;
  private static EmbeddedRedisServer redis;

  @BeforeAll
  static void servers() throws Exception {
    postgres = new EmbeddedPostgresServer(Files.createTempDirectory("gateway-frozen-pg")).start();
    redis = new EmbeddedRedisServer(null).start();
  }

  @AfterAll
  static void stopServers() {
    redis.stop();
    postgres.stop();
  }

  private static RunningGateway gateway(String... env) {
    Map<String, String> overrides = new java.util.HashMap<>(Map.of(
        "GATEWAY_REQUEST_DEADLINE", DEADLINE_MS + "ms",
        "GATEWAY_POSTGRES_CHECK_INTERVAL", "300ms"));
    for (int i = 0; i < env.length; i += 2) {
      overrides.put(env[i], env[i + 1]);
    }
    return RunningGateway.start(new Backends(postgres.url(), redis.url(), TestBackends.ADMIN_TOKEN), overrides);
  }

  private record Timed(Reply reply, long millis) {
  }

  private static CompletableFuture<Timed> timed(CompletableFuture<Reply> request) {
    long start = System.nanoTime();
    return request.thenApply(r -> new Timed(r, (System.nanoTime() - start) / 1_000_000));
  }

  private static String sale(String externalId) {
    return SignedPostbackTest.sale(externalId);
  }

  /** The stored conversion id of an externalId, or null; and how many rows it has (must never exceed one). */
  private static List<String> stored(String surface, String externalId) {
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + postgres.port() + "/postgres",
        "postgres", "");
         PreparedStatement st = c.prepareStatement("SELECT id FROM conversions WHERE surface_id = ? AND external_id = ?")) {
      st.setString(1, surface);
      st.setString(2, externalId);
      List<String> ids = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getString(1));
        }
      }
      return ids;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Reply retryUntilAnswered(GatewayClient client, TestSurface surface, String externalId) {
    Reply r = null;
    for (int i = 0; i < 50; i++) {
      r = client.postback(surface, sale(externalId));
      if (r.status() != 503) {
        return r;
      }
      sleep(200);
    }
    return r;
  }

  @Test
  void whilePostgresIsFrozenEveryRequestIsAnsweredWithinTheDeadlineAndNothingIsLostOrDoubled() {
    try (RunningGateway gw = gateway()) {
      GatewayClient client = gw.client();
      TestSurface surface = client.createSurface();
      String code = client.createLink(surface, client.createAffiliate("active"), "https://shop.example/p", null);
      assertThat(client.postback(surface, sale("warm")).status()).isEqualTo(200);
      client.click(code);

      List<String> ids = new ArrayList<>();
      List<CompletableFuture<Timed>> postbacks = new ArrayList<>();
      List<CompletableFuture<Timed>> others = new ArrayList<>();
      try (Frozen frozen = Frozen.postgres(postgres.port())) {
        long frozenAt = System.currentTimeMillis();
        for (int i = 0; i < 60; i++) {
          ids.add("f-" + i);
          postbacks.add(timed(client.postbackAsync(surface, sale("f-" + i))));
          if (i % 10 == 0) {
            others.add(timed(CompletableFuture.supplyAsync(() -> client.get("/c/" + code))));
            others.add(timed(CompletableFuture.supplyAsync(() -> client.admin("GET", "/admin/conversions?surfaceId="
                + surface.id() + "&externalId=warm", null))));
          }
          if (i >= 30) {
            sleep(150);
          }
        }
        Await.until("the gauge shows Postgres down, without /health/ready", Duration.ofSeconds(15),
            () -> POSTGRES_DOWN.matcher(client.get("/metrics").body()).find());
        for (CompletableFuture<Timed> f : postbacks) {
          Timed t = f.join();
          assertThat(t.reply().status()).as(t.reply().body()).isIn(200, 503);
          assertThat(t.millis()).as("answered within the deadline (plus slack)").isLessThan(ANSWER_BOUND_MS);
          if (t.reply().status() == 503) {
            assertThat(t.reply().retryAfter()).isNotNull();
            assertThat(t.reply().error()).isIn("deadline_exceeded", "overloaded", "dependency_unavailable");
          }
        }
        for (CompletableFuture<Timed> f : others) {
          Timed t = f.join();
          assertThat(t.reply().status()).as("a click or admin read while frozen").isEqualTo(503);
          assertThat(t.reply().retryAfter()).isNotNull();
          assertThat(t.millis()).isLessThan(ANSWER_BOUND_MS);
        }
        // About ten seconds frozen in all.
        sleep(Math.max(0, 10_000 - (System.currentTimeMillis() - frozenAt)));
      }

      // Whatever got in line before its 503 commits right after the thaw, ahead of anything sent now.
      Await.until("postbacks flow again", Duration.ofSeconds(20),
          () -> client.postback(surface, sale("after-thaw")).status() == 200);
      sleep(1_000);
      int committedAfter503 = 0;
      for (int i = 0; i < ids.size(); i++) {
        Reply first = postbacks.get(i).join().reply();
        if (first.status() == 200) {
          assertThat(stored(surface.id(), ids.get(i))).containsExactly(first.json().getString("conversionId"));
          continue;
        }
        String externalId = ids.get(i);
        List<String> before = stored(surface.id(), externalId);
        Reply retry = retryUntilAnswered(client, surface, externalId);
        assertThat(retry.status()).as(retry.body()).isEqualTo(200);
        if (before.isEmpty()) {
          assertThat(retry.json().getBoolean("duplicate")).isFalse();
        } else {
          committedAfter503++;
          assertThat(retry.json().getBoolean("duplicate")).as("committed after its 503: the retry is a duplicate").isTrue();
          assertThat(retry.json().getString("conversionId")).isEqualTo(before.get(0));
        }
        assertThat(stored(surface.id(), externalId)).hasSize(1);
      }
      assertThat(committedAfter503).as("requests that got 503 and committed after the thaw").isPositive();
      assertThat(client.click(code)).isNotEmpty();
      assertThat(client.admin("GET", "/admin/conversions?surfaceId=" + surface.id() + "&externalId=warm", null).status())
          .isEqualTo(200);
    }
  }

  @Test
  void aFullWriteQueueAnswers503AtOnceInsteadOfGrowingABacklog() {
    // One verticle, one connection, two rows allowed to wait: the third waiting row is refused at once.
    try (RunningGateway gw = gateway("GATEWAY_HTTP_INSTANCES", "1", "GATEWAY_PG_POOL_SIZE", "1",
        "GATEWAY_WRITE_QUEUE_LIMIT", "2", "GATEWAY_REQUEST_DEADLINE", "20s", "GATEWAY_DELIVERY_INSTANCES", "0")) {
      GatewayClient client = gw.client();
      TestSurface surface = client.createSurface();
      assertThat(client.postback(surface, sale("warm")).status()).isEqualTo(200);
      List<CompletableFuture<Timed>> replies = new ArrayList<>();
      try (Frozen frozen = Frozen.postgres(postgres.port())) {
        for (int i = 0; i < 20; i++) {
          replies.add(timed(client.postbackAsync(surface, sale("q-" + i))));
          sleep(20);
        }
        Await.until("refused while Postgres is still frozen", Duration.ofSeconds(10),
            () -> replies.stream().filter(f -> f.isDone() && f.join().reply().status() == 503).count() >= 10);
      }
      for (int i = 0; i < replies.size(); i++) {
        Timed t = replies.get(i).join();
        if (t.reply().status() == 503) {
          assertThat(t.reply().error()).isEqualTo("overloaded");
          assertThat(t.reply().retryAfter()).isNotNull();
          assertThat(stored(surface.id(), "q-" + i)).as("refused at the queue: nothing recorded").isEmpty();
          assertThat(client.postback(surface, sale("q-" + i)).json().getBoolean("duplicate")).isFalse();
        } else {
          assertThat(t.reply().status()).isEqualTo(200);
        }
        assertThat(stored(surface.id(), "q-" + i)).hasSize(1);
      }
    }
  }

  @Test
  void theDependencyGaugeFollowsAStoppedPostgresWithoutAReadinessCall() {
    try (RunningGateway gw = gateway()) {
      GatewayClient client = gw.client();
      assertThat(client.get("/metrics").body()).containsPattern(POSTGRES_UP);
      postgres.stop();
      try {
        Await.until("the gauge shows Postgres down", Duration.ofSeconds(10),
            () -> POSTGRES_DOWN.matcher(client.get("/metrics").body()).find());
      } finally {
        postgres.start();
      }
      Await.until("the gauge shows Postgres up again", Duration.ofSeconds(20),
          () -> POSTGRES_UP.matcher(client.get("/metrics").body()).find());
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
