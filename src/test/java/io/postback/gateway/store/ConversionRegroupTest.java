package io.postback.gateway.store;

import io.postback.gateway.config.PostgresUrl;
import io.postback.gateway.delivery.DeliveryQueue;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.redis.RedisChannel;
import io.postback.gateway.store.ConversionWriter.NewConversion;
import io.postback.gateway.store.ConversionWriter.WriteResult;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * GATEWAY_CONVERSION_REGROUP (real Postgres): with a window, conversions that queued during a commit wait
 * for the senders that commit answered and go to Postgres with their next conversions, in one commit; with
 * none (the default) they go as soon as the commit is back.
 */
@ExtendWith(VertxExtension.class)
class ConversionRegroupTest {

  /** The transaction that inserted the conversion's row. */
  private static String commitOf(NewConversion c) {
    return TestBackends.queryText("SELECT xmin::text FROM conversions WHERE id = ?", c.id());
  }

  /**
   * Writes four conversions; in the next turn, while they are in flight, two more; 100 ms after the four
   * are answered, their senders send four more. Returns the three groups.
   */
  private static List<List<NewConversion>> writeInTurns(Vertx vertx, Duration regroup) throws Exception {
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(2))
        .connectingTo(new PostgresUrl(TestBackends.get().pgUrl()).connectOptions()).using(vertx).build();
    Context context = vertx.getOrCreateContext();
    String surface = "regroup_" + System.nanoTime();
    List<NewConversion> first = new ArrayList<>();
    List<NewConversion> queued = new ArrayList<>();
    List<NewConversion> again = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      first.add(BatchIsolationTest.conversion(surface, "first-" + i, null, null));
      again.add(BatchIsolationTest.conversion(surface, "again-" + i, null, null));
    }
    queued.add(BatchIsolationTest.conversion(surface, "queued-0", null, null));
    queued.add(BatchIsolationTest.conversion(surface, "queued-1", null, null));
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      // Built on the context that uses it, as in a verticle: one batch in flight, like the default configuration.
      ConversionWriter writer = new ConversionWriter(pool, new DeliveryQueue(new RedisChannel(vertx,
          TestBackends.get().redisUrl(), Duration.ofSeconds(2), new GatewayMetrics()), 1), context, 1, 10_000, regroup,
          new GatewayMetrics());
      List<Future<WriteResult>> firstWritten = first.stream().map(writer::write).toList();
      List<Future<WriteResult>> all = new ArrayList<>(firstWritten);
      context.runOnContext(v2 -> queued.forEach(c -> all.add(writer.write(c))));
      // The answered senders come back 100 ms later (a round trip and their own work).
      Future.all(firstWritten).onSuccess(ok -> vertx.setTimer(100, t -> {
        again.forEach(c -> all.add(writer.write(c)));
        Future.all(all).<Void>mapEmpty().onComplete(done);
      }));
    });
    done.future().await(30, TimeUnit.SECONDS);
    pool.close();
    return List.of(first, queued, again);
  }

  @Test
  void withAWindowConversionsQueuedDuringACommitJoinTheNextOnesOfTheSendersItAnswered(Vertx vertx) throws Exception {
    // A window far longer than the test's turns, so that what releases the queued conversions is the
    // answered senders' return, not the clock.
    List<List<NewConversion>> groups = writeInTurns(vertx, Duration.ofSeconds(5));
    assertThat(commitOf(groups.get(1).get(0))).as("the queued conversions waited for the answered senders")
        .isEqualTo(commitOf(groups.get(1).get(1))).isEqualTo(commitOf(groups.get(2).get(0)))
        .isNotEqualTo(commitOf(groups.get(0).get(0)));
  }

  @Test
  void withoutAWindowQueuedConversionsGoAsSoonAsTheCommitIsBack(Vertx vertx) throws Exception {
    List<List<NewConversion>> groups = writeInTurns(vertx, Duration.ZERO);
    assertThat(commitOf(groups.get(1).get(0))).as("the queued conversions went on their own")
        .isEqualTo(commitOf(groups.get(1).get(1))).isNotEqualTo(commitOf(groups.get(2).get(0)))
        .isNotEqualTo(commitOf(groups.get(0).get(0)));
  }
}
