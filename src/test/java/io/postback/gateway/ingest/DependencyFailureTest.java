package io.postback.gateway.ingest;

import io.postback.gateway.config.Backends;
import io.postback.gateway.dedupe.DedupeFilter;
import io.postback.gateway.embedded.EmbeddedRedisServer;
import io.postback.gateway.support.Frozen;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** Nothing lost, nothing doubled when Redis or Postgres goes away and comes back. */
class DependencyFailureTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();
  private GatewayClient client;
  private TestSurface surface;

  @BeforeEach
  void newSurface() {
    client = gateway.client();
    surface = client.createSurface();
  }

  @AfterEach
  void dependenciesBack() {
    TestBackends.redis().start();
    TestBackends.postgres().start();
  }

  long rows(String externalId) {
    return TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = ?",
        surface.id(), externalId);
  }

  @Test
  void redisStoppedMidTestStillAcceptsAndStillDedupes() {
    Reply before = client.postback(surface, SignedPostbackTest.sale("r-1"));
    assertThat(before.status()).isEqualTo(200);

    TestBackends.redis().stop();

    Reply fresh = client.postback(surface, SignedPostbackTest.sale("r-2"));
    assertThat(fresh.status()).isEqualTo(200);
    assertThat(fresh.json().getBoolean("duplicate")).isFalse();
    Reply repeat = client.postback(surface, SignedPostbackTest.sale("r-1"));
    assertThat(repeat.status()).isEqualTo(200);
    assertThat(repeat.json().getBoolean("duplicate")).isTrue();
    assertThat(repeat.json().getString("conversionId")).isEqualTo(before.json().getString("conversionId"));
    Reply repeatOfFresh = client.postback(surface, SignedPostbackTest.sale("r-2"));
    assertThat(repeatOfFresh.json().getBoolean("duplicate")).isTrue();

    assertThat(rows("r-1")).isEqualTo(1);
    assertThat(rows("r-2")).isEqualTo(1);
    assertThat(client.get("/health/ready").status()).isEqualTo(503);
    assertThat(client.get("/metrics").body()).contains("gateway_redis_fallbacks_total{operation=\"dedupe_claim\"}");

    TestBackends.redis().start();
    Reply afterRestart = client.postback(surface, SignedPostbackTest.sale("r-3"));
    assertThat(afterRestart.status()).isEqualTo(200);
  }

  /**
   * A frozen Redis (SIGSTOP: connected, silent) costs a postback the Redis deadline, not the request's: the
   * claim times out, Postgres decides, the answer is 200; a repeat is answered as a duplicate by Postgres.
   */
  @Test
  void aFrozenRedisCostsAPostbackTheRedisDeadlineAndNothingIsDoubled() {
    try (EmbeddedRedisServer redis = new EmbeddedRedisServer(null).start();
         RunningGateway gw = RunningGateway.start(new Backends(TestBackends.get().pgUrl(), redis.url(),
             TestBackends.ADMIN_TOKEN), Map.of("GATEWAY_REDIS_TIMEOUT", "300ms"))) {
      GatewayClient own = gw.client();
      TestSurface mine = own.createSurface();
      String body = "{\"externalId\":\"frozen-redis-1\",\"eventType\":\"sale\",\"grossMinor\":100,\"currency\":\"USD\"}";
      assertThat(own.postback(mine, body).status()).as("Redis still answering").isEqualTo(200);
      String second = body.replace("frozen-redis-1", "frozen-redis-2");
      try (Frozen frozen = Frozen.redis(redis.port())) {
        long start = System.nanoTime();
        Reply accepted = own.postback(mine, second);
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(200);
        assertThat(accepted.json().getBoolean("duplicate")).isFalse();
        assertThat(tookMs).as("the Redis deadline (300 ms) and a commit, not the request deadline").isLessThan(3_000);
        Reply repeat = own.postback(mine, second);
        assertThat(repeat.status()).isEqualTo(200);
        assertThat(repeat.json().getBoolean("duplicate")).as("Postgres answers the repeat").isTrue();
        Reply firstAgain = own.postback(mine, body);
        assertThat(firstAgain.json().getBoolean("duplicate")).isTrue();
      }
      for (String externalId : List.of("frozen-redis-1", "frozen-redis-2")) {
        assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = ?",
            mine.id(), externalId)).as(externalId).isEqualTo(1);
      }
      assertThat(own.get("/metrics").body()).contains("gateway_redis_fallbacks_total{operation=\"dedupe_claim\"}");
    }
  }

  @Test
  void concurrentDoubleFiresWithoutRedisStillMakeOneConversion() {
    TestBackends.redis().stop();
    List<CompletableFuture<Reply>> fires = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      fires.add(client.postbackAsync(surface, SignedPostbackTest.sale("r-race")));
    }
    List<Reply> replies = fires.stream().map(CompletableFuture::join).toList();
    assertThat(replies).allSatisfy(r -> assertThat(r.status()).isEqualTo(200));
    assertThat(replies.stream().filter(r -> !r.json().getBoolean("duplicate")).count()).isEqualTo(1);
    assertThat(rows("r-race")).isEqualTo(1);
  }

  @Test
  void postgresStoppedAnswers503AndTheRetryIsRecordedExactlyOnce() {
    TestBackends.postgres().stop();

    Reply down = client.postback(surface, SignedPostbackTest.sale("p-1"));
    assertThat(down.status()).isEqualTo(503);
    assertThat(down.error()).isEqualTo("dependency_unavailable");
    assertThat(down.retryAfter()).isNotNull();
    assertThat(down.body()).doesNotContain("Exception");
    // The dedupe claim reached Redis before Postgres failed: the key is set, but only as "in flight".
    assertThat(TestBackends.redis("GET", DedupeFilter.key(surface.id(), "p-1"))).isEqualTo("~");
    assertThat(client.get("/health/ready").status()).isEqualTo(503);

    TestBackends.postgres().start();

    Reply retry = retryUntilNot503(SignedPostbackTest.sale("p-1"));
    assertThat(retry.status()).isEqualTo(200);
    assertThat(retry.json().getBoolean("duplicate"))
        .as("a Redis key left by the failed attempt must not make the retry look like a duplicate")
        .isFalse();
    assertThat(rows("p-1")).isEqualTo(1);
    Reply again = client.postback(surface, SignedPostbackTest.sale("p-1"));
    assertThat(again.json().getBoolean("duplicate")).isTrue();
    assertThat(rows("p-1")).isEqualTo(1);
  }

  private Reply retryUntilNot503(String body) {
    Reply r = null;
    for (int i = 0; i < 50; i++) {
      r = client.postback(surface, body);
      if (r.status() != 503) {
        return r;
      }
      sleep(200);
    }
    return r;
  }

  @Test
  void gatewayKilledMidFlightLosesNothingAndDoublesNothing() {
    RunningGateway doomed = RunningGateway.start();
    GatewayClient c = doomed.client();
    TestSurface s = c.createSurface();
    List<CompletableFuture<Reply>> fires = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      fires.add(c.postbackAsync(s, SignedPostbackTest.sale("k-" + i)));
    }
    sleep(30);
    doomed.close();

    List<String> committed = new ArrayList<>();
    for (int i = 0; i < fires.size(); i++) {
      Reply r = fires.get(i).handle((ok, err) -> ok).join();
      if (r != null && r.status() == 200) {
        committed.add(r.json().getString("conversionId"));
      }
    }
    // A merchant retries everything that did not get a 200 (and, harmlessly, also what did).
    for (int i = 0; i < fires.size(); i++) {
      Reply r = client.postback(s, SignedPostbackTest.sale("k-" + i));
      assertThat(r.status()).isEqualTo(200);
    }
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", s.id())).isEqualTo(400);
    for (String id : committed) {
      assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE id = ?", id)).isEqualTo(1);
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
