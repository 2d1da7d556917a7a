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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How clicks are grouped into commits (real Postgres and Redis): every click is answered only once its
 * row committed and Redis has it, and clicks that queued during a commit wait for the visitors that commit
 * answered, so that both go to Postgres in one batch instead of taking turns.
 */
@ExtendWith(VertxExtension.class)
class ClickWriterTest {
  private static Context context;
  private static ClickWriter writer;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    Migrations.migrate(new PostgresUrl(TestBackends.get().pgUrl()));
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(2))
        .connectingTo(new PostgresUrl(TestBackends.get().pgUrl()).connectOptions()).using(vertx).build();
    context = vertx.getOrCreateContext();
    Promise<ClickWriter> made = Promise.promise();
    // Built on the context that uses it, as in a verticle: one batch in flight, like the default configuration.
    context.runOnContext(v -> {
      GatewayMetrics metrics = new GatewayMetrics();
      ClickLookup lookup = new ClickLookup(new RedisChannel(vertx, TestBackends.get().redisUrl(), Duration.ofSeconds(2),
          metrics), pool, metrics, Duration.ofHours(24));
      // A regrouping window far longer than the test's turns, so that what releases the queued clicks is the
      // answered visitors' return, not the clock (MicroBatcher.REGROUP, 1 ms, is shorter than a slow turn).
      made.complete(new ClickWriter(pool, lookup, context, 1, 10_000, Duration.ofSeconds(5), metrics));
    });
    writer = made.future().await(10, TimeUnit.SECONDS);
  }

  private static Click click() {
    return new Click(Ids.timeOrdered("ck"), "lk_writer", "srf_writer", "aff_writer", Instant.now(), "127.0.0.1", null,
        null, new String[] {"s1", null, null, null, null}, false);
  }

  private static List<Future<Void>> write(List<Click> clicks) {
    return clicks.stream().map(c -> writer.write(c, Duration.ofHours(1))).toList();
  }

  /** The transaction that inserted the click's row. */
  private static String commitOf(Click c) {
    return TestBackends.queryText("SELECT xmin::text FROM clicks WHERE id = ?", c.id());
  }

  @Test
  void clicksQueuedDuringACommitJoinTheNextClicksOfTheVisitorsItAnswered() throws Exception {
    List<Click> first = List.of(click(), click(), click(), click());
    List<Click> queued = List.of(click(), click());
    List<Click> again = List.of(click(), click(), click(), click());
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      List<Future<Void>> firstWritten = write(first);
      List<Future<Void>> all = new ArrayList<>(firstWritten);
      // The next turn: the first batch is in flight, these wait for a batch.
      context.runOnContext(v2 -> all.addAll(write(queued)));
      // Once answered, the first visitors click again a moment later, as browsers do.
      Future.all(firstWritten).onSuccess(ok -> context.runOnContext(v3 -> {
        all.addAll(write(again));
        Future.all(all).<Void>mapEmpty().onComplete(done);
      }));
    });
    done.future().await(30, TimeUnit.SECONDS);

    for (Click c : first) {
      assertThat(TestBackends.redis("GET", ClickLookup.key(c.id()))).as("remembered").contains("lk_writer");
    }
    assertThat(commitOf(queued.get(0))).as("committed with the queued click").isEqualTo(commitOf(queued.get(1)))
        .as("the queued clicks waited for the answered visitors").isEqualTo(commitOf(again.get(0)))
        .isNotEqualTo(commitOf(first.get(0)));
    assertThat(TestBackends.queryLong("SELECT count(*) FROM clicks WHERE id = ANY (?)", (Object) List.of(first, queued,
        again).stream().flatMap(List::stream).map(Click::id).toArray(String[]::new))).isEqualTo(10);
  }
}
