package io.postback.gateway.click;

import io.postback.gateway.config.PostgresUrl;
import io.postback.gateway.ids.Ids;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.redis.RedisChannel;
import io.postback.gateway.store.Migrations;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a click's Redis copy gives attribution back: every field as it was recorded, whatever the visitor's
 * sub-ids contain, for the surface's window capped at the configured maximum. The clicks here exist only
 * in Redis, so finding them proves the copy answered.
 */
@ExtendWith(VertxExtension.class)
class ClickLookupTest {
  private static final Duration MAX_TTL = Duration.ofHours(24);
  private static Context context;
  private static ClickLookup lookup;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    Migrations.migrate(new PostgresUrl(TestBackends.get().pgUrl()));
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1))
        .connectingTo(new PostgresUrl(TestBackends.get().pgUrl()).connectOptions()).using(vertx).build();
    context = vertx.getOrCreateContext();
    // The channel lives on the context that uses it, as in a verticle.
    lookup = onContext(() -> {
      GatewayMetrics metrics = new GatewayMetrics();
      return Future.succeededFuture(new ClickLookup(new RedisChannel(vertx, TestBackends.get().redisUrl(),
          Duration.ofSeconds(2), metrics), pool, metrics, MAX_TTL));
    });
  }

  private static <T> T onContext(Supplier<Future<T>> work) throws Exception {
    Promise<T> done = Promise.promise();
    context.runOnContext(v -> work.get().onComplete(done));
    return done.future().await(10, TimeUnit.SECONDS);
  }

  private static Click click(String ip, boolean suspended, String... subs) {
    return new Click(Ids.timeOrdered("ck"), "lk_" + System.nanoTime(), "srf_lookup", "aff_lookup",
        Instant.now().truncatedTo(ChronoUnit.MILLIS), ip, "agent", "https://ref.example/", subs, suspended);
  }

  @Test
  void aRememberedClickIsFoundWithEveryFieldAsRecorded() throws Exception {
    Click odd = click("2001:db8::7", true, "quote\" back\\slash", "\u0001\n\t\u001f", "€ 😀 \u2028", null,
        "</script>{\"a\":[1]}");
    Click plain = click("203.0.113.9", false, "bench", null, null, null, null);
    onContext(() -> lookup.remember(List.of(odd, plain), List.of(Duration.ofHours(1), Duration.ofHours(2))));

    for (Click recorded : List.of(odd, plain)) {
      Click found = onContext(() -> lookup.find(recorded.id()));
      assertThat(found).as("found in Redis").isNotNull();
      assertThat(found.linkCode()).isEqualTo(recorded.linkCode());
      assertThat(found.surfaceId()).isEqualTo(recorded.surfaceId());
      assertThat(found.affiliateId()).isEqualTo(recorded.affiliateId());
      assertThat(found.clickedAt()).isEqualTo(recorded.clickedAt());
      assertThat(found.ip()).isEqualTo(recorded.ip());
      assertThat(found.subIds()).containsExactly(recorded.subIds());
      assertThat(found.affiliateSuspended()).isEqualTo(recorded.affiliateSuspended());
    }
    long ttl = Long.parseLong(TestBackends.redis("PTTL", ClickLookup.key(odd.id())).substring(1));
    assertThat(ttl).isBetween(Duration.ofMinutes(59).toMillis(), Duration.ofHours(1).toMillis());
  }

  @Test
  void aClickIsRememberedForAtMostTheMaximumTtl() throws Exception {
    Click c = click("203.0.113.10", false, "a", null, null, null, null);
    onContext(() -> lookup.remember(List.of(c), List.of(Duration.ofDays(30))));
    long ttl = Long.parseLong(TestBackends.redis("PTTL", ClickLookup.key(c.id())).substring(1));
    assertThat(ttl).isBetween(MAX_TTL.minusMinutes(1).toMillis(), MAX_TTL.toMillis());
  }
}
