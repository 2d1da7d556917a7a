package io.postback.gateway.store;

import io.postback.gateway.config.PostgresUrl;
import io.postback.gateway.conversion.Attribution;
import io.postback.gateway.conversion.ConversionRequest;
import io.postback.gateway.delivery.DeliveryQueue;
import io.postback.gateway.delivery.DeliveryStore;
import io.postback.gateway.ids.Ids;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.redis.RedisChannel;
import io.postback.gateway.store.ConversionWriter.NewConversion;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hot statements are prepared once per connection and then only executed: a statement the client does
 * not keep prepared is parsed, analysed and planned by Postgres on every execution. The longest statements
 * are the hot ones (the conversion insert with its events and fan-out, the relay's fan-out), longer than
 * the client's default limit of what it keeps.
 */
@ExtendWith(VertxExtension.class)
class PreparedStatementsTest {

  private static <T> T onLoop(Context context, Supplier<Future<T>> work) throws Exception {
    Promise<T> done = Promise.promise();
    context.runOnContext(v -> work.get().onComplete(done));
    return done.future().await(30, TimeUnit.SECONDS);
  }

  @Test
  void theConversionInsertAndTheFanOutArePreparedOnceAndReused(Vertx vertx) throws Exception {
    Migrations.migrate(new PostgresUrl(TestBackends.get().pgUrl()));
    // One connection, so the session that ran the statements is the one asked about them.
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1))
        .connectingTo(new PostgresUrl(TestBackends.get().pgUrl()).connectOptions()).using(vertx).build();
    Context context = vertx.getOrCreateContext();
    DeliveryQueue queue = new DeliveryQueue(new RedisChannel(vertx, TestBackends.get().redisUrl(), Duration.ofSeconds(2),
        new GatewayMetrics()), 1);
    ConversionWriter writer = new ConversionWriter(pool, queue, context, 1, 100, Duration.ZERO, new GatewayMetrics());
    DeliveryStore deliveries = new DeliveryStore(pool);
    String surface = "prep_" + System.nanoTime();
    for (int i = 0; i < 3; i++) {
      ConversionRequest request = new ConversionRequest(surface, "prepared-" + i, "lead", null, null, Instant.now(),
          null, null, null, null, null, null);
      NewConversion conversion = new NewConversion(Ids.timeOrdered("cv"), request, Attribution.UNATTRIBUTED);
      assertThat(onLoop(context, () -> writer.write(conversion)).inserted()).isTrue();
      onLoop(context, () -> deliveries.fanOut(10));
    }

    List<String> prepared = onLoop(context, () -> pool.query("SELECT statement FROM pg_prepared_statements")
        .execute().map(rows -> {
          List<String> out = new ArrayList<>();
          for (Row r : rows) {
            out.add(r.getString(0));
          }
          return out;
        }));
    assertThat(prepared).filteredOn(s -> s.contains("INSERT INTO conversions")).as("the conversion insert").hasSize(1);
    assertThat(prepared).filteredOn(s -> s.contains("UPDATE events e SET fanned_out")).as("the relay's fan-out")
        .hasSize(1);
    pool.close();
  }
}
