package io.postback.gateway.limit;

import io.postback.gateway.config.Backends;
import io.postback.gateway.embedded.EmbeddedRedisServer;
import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.TestBackends;
import io.postback.gateway.surface.Surface;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** SPEC §9: a surface's rate limit holds across gateway instances, and degrades to a share of it without Redis. */
class SharedRateLimitTest {
  private static final int RATE = 2;
  private static final int BURST = 20;
  private static final int PER_GATEWAY = 30;

  @Test
  void twoGatewaysTogetherAdmitTheSurfaceRateNotTwiceIt() {
    try (RunningGateway a = RunningGateway.start(); RunningGateway b = RunningGateway.start()) {
      TestSurface surface = limitedSurface(a, b);

      Burst burst = Burst.send(a, b, surface, "shared");

      // Each gateway alone would admit the whole burst: together they would take 2 × 20.
      assertThat(burst.admitted()).isBetween((long) BURST, BURST + burst.refilled(RATE));
      assertThat(burst.refusedAsRateLimited()).isEqualTo(2L * PER_GATEWAY - burst.admitted());
      assertThat(fallbacks(a) + fallbacks(b)).isZero();
    }
  }

  @Test
  void withRedisDownEachGatewayAdmitsItsShareAndSaysSo() {
    EmbeddedRedisServer redis = new EmbeddedRedisServer(null).start();
    Backends backends = new Backends(TestBackends.get().pgUrl(), redis.url(), TestBackends.ADMIN_TOKEN);
    Map<String, String> env = Map.of("GATEWAY_EXPECTED_INSTANCES", "2");
    try (RunningGateway a = RunningGateway.start(backends, env); RunningGateway b = RunningGateway.start(backends, env)) {
      TestSurface surface = limitedSurface(a, b);
      redis.stop();

      Burst burst = Burst.send(a, b, surface, "local");

      // Each admits its share: burst 20 ÷ 2 at once, then 2 ÷ 2 per second.
      for (int g = 0; g < 2; g++) {
        assertThat(burst.admittedBy(g)).isBetween((long) BURST / 2, BURST / 2 + burst.refilled(RATE / 2));
      }
      assertThat(fallbacks(a)).isPositive();
      assertThat(fallbacks(b)).isPositive();
    } finally {
      redis.stop();
    }
  }

  /** A surface limited to RATE per second with a burst of BURST, known with its limit to both gateways. */
  private static TestSurface limitedSurface(RunningGateway a, RunningGateway b) {
    TestSurface surface = a.client().createSurface();
    Reply patched = a.client().admin("PATCH", "/admin/surfaces/" + surface.id(),
        new JsonObject().put("rateLimitPerSecond", RATE).put("rateLimitBurst", BURST));
    assertThat(patched.status()).isEqualTo(200);
    Await.until("the second gateway sees the limit", Duration.ofSeconds(10), () -> {
      Surface seen = b.gateway().surfaces().find(surface.id()).await();
      return seen != null && Integer.valueOf(RATE).equals(seen.rateLimitPerSecond());
    });
    return surface;
  }

  private static double fallbacks(RunningGateway g) {
    return g.gateway().metrics().registry().get("gateway.redis.fallbacks").tag("operation", "rate_limit").counter().count();
  }

  /** PER_GATEWAY postbacks sent at once to each of two gateways, and how long that took. */
  private record Burst(List<List<Reply>> replies, long nanos) {
    static Burst send(RunningGateway a, RunningGateway b, TestSurface surface, String prefix) {
      List<List<CompletableFuture<Reply>>> sent = List.of(new ArrayList<>(), new ArrayList<>());
      long start = System.nanoTime();
      for (int i = 0; i < PER_GATEWAY; i++) {
        sent.get(0).add(a.client().postbackAsync(surface, signup(prefix + "-a-" + i)));
        sent.get(1).add(b.client().postbackAsync(surface, signup(prefix + "-b-" + i)));
      }
      List<List<Reply>> replies = sent.stream().map(l -> l.stream().map(CompletableFuture::join).toList()).toList();
      return new Burst(replies, System.nanoTime() - start);
    }

    long admittedBy(int gateway) {
      return replies.get(gateway).stream().filter(r -> r.status() == 200).count();
    }

    long admitted() {
      return admittedBy(0) + admittedBy(1);
    }

    long refusedAsRateLimited() {
      return replies.stream().flatMap(List::stream)
          .filter(r -> r.status() == 429 && "rate_limited".equals(r.error())).count();
    }

    /** The most tokens a bucket refilling at {@code rate} per second can have gained while the burst was sent. */
    long refilled(int rate) {
      return (long) Math.ceil(nanos / 1e9 * rate) + 1;
    }
  }

  private static String signup(String externalId) {
    return "{\"externalId\":\"" + externalId + "\",\"eventType\":\"signup\"}";
  }
}
