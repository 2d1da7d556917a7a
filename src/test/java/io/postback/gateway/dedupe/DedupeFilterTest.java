package io.postback.gateway.dedupe;

import io.postback.gateway.embedded.EmbeddedRedisServer;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.redis.RedisChannel;
import io.postback.gateway.support.RedisCluster;
import io.postback.gateway.support.StandaloneRedis;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The claim answers the same on every Redis the gateway supports: on Redis 7 (production) it is one
 * native {@code SET … NX GET}, on 6.2 (the embedded default) the script; both claim a new key with the
 * in-flight marker, send an in-flight repeat on to Postgres, and answer a remembered outcome.
 */
class DedupeFilterTest {
  private static final Pattern CALLS = Pattern.compile("cmdstat_(\\w+):calls=(\\d+)");
  private final Vertx vertx = Vertx.vertx();
  private final Context context = vertx.getOrCreateContext();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  @Test
  void onRedis7AClaimIsOneNativeSetNxGet() throws Exception {
    Assumptions.assumeTrue(RedisCluster.available() || System.getenv("CI") != null, "redis-server not on the PATH");
    try (StandaloneRedis redis = StandaloneRedis.start()) {
      assertThat(redis.command("INFO", "server")).as("the machine's Redis").containsPattern("redis_version:[7-9]\\.");
      String calls = claimsBehave(redis.url(), true);
      assertThat(calls).as("three claims and a remember by SET, no script").contains("set=4 ").doesNotContain("evalsha=").doesNotContain("eval=");
    }
  }

  @Test
  void onRedis62TheScriptClaims() throws Exception {
    EmbeddedRedisServer redis = new EmbeddedRedisServer(null).start();
    try {
      String calls = claimsBehave(redis.url(), false);
      assertThat(calls).as("claims by the script").contains("evalsha=3");
    } finally {
      redis.stop();
    }
  }

  /** Claims, repeats and remembers one key; answers the commands Redis counted meanwhile ("name=calls ..."). */
  private String claimsBehave(String url, boolean redis7) throws Exception {
    GatewayMetrics metrics = new GatewayMetrics();
    RedisChannel channel = onLoop(() -> Future.succeededFuture(new RedisChannel(vertx, url, Duration.ofSeconds(2), metrics)));
    DedupeFilter dedupe = new DedupeFilter(channel, metrics, Duration.ofHours(1));
    // The first command connects; the version is learnt then.
    onLoop(() -> channel.send(Request.cmd(Command.PING)));
    assertThat(channel.atLeastRedis7()).isEqualTo(redis7);
    onLoop(() -> channel.send(Request.cmd(Command.CONFIG).arg("RESETSTAT")));
    String key = DedupeFilter.key("srf_dedupe", "order-1");

    assertThat(onLoop(() -> dedupe.claim("srf_dedupe", "order-1"))).as("a new key is claimed: go on").isNull();
    assertThat(get(channel, key)).isEqualTo(DedupeFilter.IN_FLIGHT);
    long markerTtl = onLoop(() -> channel.send(Request.cmd(Command.PTTL).arg(key))).toLong();
    assertThat(markerTtl).as("the marker expires").isBetween(1L, 30_000L);

    assertThat(onLoop(() -> dedupe.claim("srf_dedupe", "order-1"))).as("in flight: Postgres decides").isNull();
    assertThat(get(channel, key)).isEqualTo(DedupeFilter.IN_FLIGHT);

    String outcome = "{\"status\":\"attributed\",\"conversionId\":\"cv_1\"}";
    onLoop(() -> {
      dedupe.remember("srf_dedupe", "order-1", Buffer.buffer(outcome));
      return Future.succeededFuture();
    });
    Thread.sleep(200);
    assertThat(onLoop(() -> dedupe.claim("srf_dedupe", "order-1")).toString()).as("the committed outcome").isEqualTo(outcome);
    long outcomeTtl = onLoop(() -> channel.send(Request.cmd(Command.TTL).arg(key))).toLong();
    assertThat(outcomeTtl).isBetween(3_500L, 3_600L);

    String stats = onLoop(() -> channel.send(Request.cmd(Command.INFO).arg("commandstats"))).toString();
    StringBuilder calls = new StringBuilder();
    Matcher m = CALLS.matcher(stats);
    while (m.find()) {
      calls.append(m.group(1)).append('=').append(m.group(2)).append(' ');
    }
    onLoop(() -> {
      channel.close();
      return Future.succeededFuture();
    });
    return calls.toString();
  }

  private String get(RedisChannel channel, String key) throws Exception {
    Response r = onLoop(() -> channel.send(Request.cmd(Command.GET).arg(key)));
    return r == null ? null : r.toString();
  }

  /** Runs on the channel's event loop (a RedisChannel is used from its context only). */
  private <T> T onLoop(Supplier<Future<T>> work) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> work.get().onComplete(ar -> {
      if (ar.succeeded()) {
        result.complete(ar.result());
      } else {
        result.completeExceptionally(ar.cause());
      }
    }));
    return result.get(10, TimeUnit.SECONDS);
  }
}
