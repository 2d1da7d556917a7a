package io.postback.gateway.store;

import io.micrometer.core.instrument.DistributionSummary;
import io.postback.gateway.batch.MicroBatcher;
import io.postback.gateway.click.Click;
import io.postback.gateway.click.ClickLookup;
import io.postback.gateway.click.ClickWriter;
import io.postback.gateway.config.PostgresUrl;
import io.postback.gateway.conversion.Approval;
import io.postback.gateway.conversion.Attribution;
import io.postback.gateway.conversion.ConversionRequest;
import io.postback.gateway.delivery.DeliveryQueue;
import io.postback.gateway.delivery.DeliveryStore;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.ids.Ids;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The second line of defence, below validation: rows that bypass every check at the HTTP edge are fed
 * straight to the micro-batched writers (real Postgres), in one batch with good rows. Only the bad row
 * fails; a data error names its field (400), an integrity error is a 500; its neighbours commit.
 */
@ExtendWith(VertxExtension.class)
class BatchIsolationTest {
  private static Vertx vertx;
  private static Pool pool;
  private static Context context;
  private static DeliveryQueue deliveries;

  /** The extension makes the Vert.x instance and closes it after the class. */
  @BeforeAll
  static void start(Vertx vertx) {
    Migrations.migrate(new PostgresUrl(TestBackends.get().pgUrl()));
    BatchIsolationTest.vertx = vertx;
    pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(4))
        .connectingTo(new PostgresUrl(TestBackends.get().pgUrl()).connectOptions()).using(vertx).build();
    context = vertx.getOrCreateContext();
    deliveries = new DeliveryQueue(new RedisChannel(vertx, TestBackends.get().redisUrl(), Duration.ofSeconds(2),
        new GatewayMetrics()), 1);
  }

  /** Runs {@code writes} in one event-loop turn (so they share a batch) and waits for all their outcomes. */
  private static <T> List<Outcome<T>> inOneTurn(Supplier<List<Future<T>>> writes) {
    Promise<List<Outcome<T>>> done = Promise.promise();
    context.runOnContext(v -> {
      List<Future<T>> futures = writes.get();
      Future.join(futures).onComplete(ar -> {
        List<Outcome<T>> out = new ArrayList<>();
        futures.forEach(f -> out.add(new Outcome<>(f.succeeded() ? f.result() : null, f.cause())));
        done.complete(out);
      });
    });
    try {
      return done.future().await(30, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("the writes had no outcome within 30 s", e);
    }
  }

  private record Outcome<T>(T result, Throwable failure) {
    ApiError error() {
      assertThat(failure).as("expected a refusal").isInstanceOf(ApiError.class);
      return (ApiError) failure;
    }
  }

  /** An unattributed lead of now, as the pipeline hands it to the writer (ConversionRegroupTest's too). */
  static NewConversion conversion(String surface, String externalId, String metadata, Approval approval) {
    return new NewConversion(Ids.timeOrdered("cv"), new ConversionRequest(surface, externalId, "lead", null, null,
        Instant.now(), null, null, null, metadata, approval, null), Attribution.UNATTRIBUTED);
  }

  @Test
  void badConversionRowsFailAloneAndTheirNeighboursCommit() {
    String surface = "iso_" + System.nanoTime();
    ConversionWriter writer = new ConversionWriter(pool, deliveries, context, 4, 10_000, Duration.ZERO,
        new GatewayMetrics());
    NewConversion earlier = conversion(surface, "already-there", null, null);
    assertThat(inOneTurn(() -> List.of(writer.write(earlier))).get(0).result().inserted()).isTrue();

    List<NewConversion> rows = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      rows.add(conversion(surface, "good-" + i, i % 2 == 0 ? "{\"n\":" + i + ",\"s\":\"ok \\ud83d\\ude00\"}" : null, null));
    }
    // Each of these bypasses validation; each alone fails its statement in Postgres.
    rows.add(5, conversion(surface, "lone-surrogate", "{\"a\":\"\\ud800\"}", null));
    rows.add(12, conversion(surface, "surrogate-key", "{\"\\udc00\":1}", null));
    rows.add(20, conversion(surface, "nul-escape", "{\"a\":\"x\\u0000y\"}", null));
    rows.add(27, conversion(surface, "huge-number", "{\"a\":1e1000000}", null));
    rows.add(33, conversion(surface, "not-json", "{\"a\":", null));
    rows.add(38, new NewConversion(Ids.timeOrdered("cv"), earlier.request(), Attribution.UNATTRIBUTED));

    List<Outcome<WriteResult>> out = inOneTurn(() -> rows.stream().map(writer::write).toList());

    for (int i = 0; i < rows.size(); i++) {
      String externalId = rows.get(i).request().externalId();
      Outcome<WriteResult> o = out.get(i);
      switch (externalId) {
        case "lone-surrogate", "surrogate-key", "nul-escape", "huge-number", "not-json" -> {
          assertThat(o.error().status()).as(externalId).isEqualTo(400);
          assertThat(o.error().code()).isEqualTo("invalid_field");
          assertThat(o.error().field()).as(externalId).isEqualTo("metadata");
        }
        case "already-there" -> {
          assertThat(o.failure()).isNull();
          assertThat(o.result().inserted()).isFalse();
          assertThat(o.result().outcome().conversionId()).isEqualTo(earlier.id());
        }
        default -> {
          assertThat(o.failure()).as(externalId).isNull();
          assertThat(o.result().inserted()).isTrue();
        }
      }
    }
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", surface)).isEqualTo(41);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM events WHERE type = 'conversion.created' "
        + "AND surface_id = ?", surface)).as("each committed conversion has its one event").isEqualTo(41);
  }

  @Test
  void aTextFieldPostgresCannotStoreIsNamed() {
    String surface = "iso_" + System.nanoTime();
    ConversionWriter writer = new ConversionWriter(pool, deliveries, context, 4, 10_000, Duration.ZERO,
        new GatewayMetrics());
    List<Outcome<WriteResult>> out = inOneTurn(() -> List.of(
        writer.write(conversion(surface, "nul\u0000inside", null, null)),
        writer.write(conversion(surface, "fine", null, null))));
    assertThat(out.get(0).error().field()).isEqualTo("externalId");
    assertThat(out.get(0).error().getMessage()).contains("NUL");
    assertThat(out.get(1).result().inserted()).isTrue();
  }

  @Test
  void aRowTheWriterCannotEvenEncodeFailsAloneAsOurBug() {
    String surface = "iso_" + System.nanoTime();
    ConversionWriter writer = new ConversionWriter(pool, deliveries, context, 4, 10_000, Duration.ZERO,
        new GatewayMetrics());
    NewConversion noTime = new NewConversion(Ids.timeOrdered("cv"), new ConversionRequest(surface, "no-time", "lead",
        null, null, null, null, null, null, null, null, null), Attribution.UNATTRIBUTED);
    List<Outcome<WriteResult>> out = inOneTurn(() -> List.of(
        writer.write(conversion(surface, "before", null, null)), writer.write(noTime),
        writer.write(conversion(surface, "after", null, null))));
    assertThat(out.get(0).result().inserted()).isTrue();
    assertThat(out.get(1).error().status()).isEqualTo(500);
    assertThat(out.get(2).result().inserted()).isTrue();
  }

  @Test
  void aDependencyFailureFailsTheWholeBatchWithoutSplitting() throws Exception {
    // Nothing listens there: the connection is refused (a dependency failure, not a row's fault).
    Pool dead = PgBuilder.pool().connectingTo(new PostgresUrl("postgresql://postgres@127.0.0.1:1/postgres")
        .connectOptions()).using(vertx).build();
    AtomicInteger statements = new AtomicInteger();
    List<Promise<Void>> items = new ArrayList<>();
    DistributionSummary rows = new GatewayMetrics().writeBatchRows("probes");
    MicroBatcher<Promise<Void>> batcher = new MicroBatcher<>(context, "probes", 100, 1, 100, Duration.ZERO, rows,
        new MicroBatcher.Writer<>() {
          @Override
          public Future<?> write(List<Promise<Void>> batch) {
            statements.incrementAndGet();
            return dead.query("SELECT 1").execute().onSuccess(r -> batch.forEach(Promise::tryComplete));
          }

          @Override
          public void fail(Promise<Void> item, Throwable error) {
            item.tryFail(error);
          }

          @Override
          public ApiError diagnose(Promise<Void> item) {
            return null;
          }
        });
    List<Outcome<Void>> out = inOneTurn(() -> {
      List<Future<Void>> futures = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        Promise<Void> p = Promise.promise();
        items.add(p);
        batcher.add(p);
        futures.add(p.future());
      }
      return futures;
    });
    assertThat(out).allSatisfy(o -> assertThat(o.failure()).isNotNull().isNotInstanceOf(ApiError.class));
    assertThat(statements.get()).isEqualTo(1);
    assertThat(rows.count()).as("statements measured").isEqualTo(1);
    assertThat(rows.totalAmount()).as("rows measured").isEqualTo(8);
    dead.close().await(5, TimeUnit.SECONDS);
  }

  @Test
  void aClickPostgresCannotStoreFailsAloneAndItsNeighboursAreRecorded() {
    List<Click> clicks = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      clicks.add(click("ok-" + i, null));
    }
    clicks.add(11, click("nul", "x\u0000y"));
    List<Outcome<Void>> out = inOneTurn(() -> {
      // The writer's Redis channel lives on the writer's event loop, as in a verticle.
      GatewayMetrics metrics = new GatewayMetrics();
      ClickLookup lookup = new ClickLookup(new RedisChannel(vertx, TestBackends.get().redisUrl(), Duration.ofSeconds(2),
          metrics), pool, metrics, Duration.ofHours(24));
      ClickWriter writer = new ClickWriter(pool, lookup, context, 4, 10_000, metrics);
      return clicks.stream().map(c -> writer.write(c, Duration.ofDays(1))).toList();
    });
    for (int i = 0; i < clicks.size(); i++) {
      if (i == 11) {
        assertThat(out.get(i).error().field()).isEqualTo("sub1");
      } else {
        assertThat(out.get(i).failure()).isNull();
        assertThat(TestBackends.redis("GET", "ck:" + clicks.get(i).id())).as("remembered in Redis").contains("ok-");
      }
    }
    assertThat(TestBackends.queryLong("SELECT count(*) FROM clicks WHERE id = ANY (?)",
        (Object) clicks.stream().map(Click::id).toArray(String[]::new))).isEqualTo(30);
  }

  private static Click click(String sub2, String sub1) {
    return new Click(Ids.timeOrdered("ck"), "isolink", "iso_surface", "aff_iso", Instant.now(), "127.0.0.1",
        "agent", null, new String[] {sub1, sub2, null, null, null}, false);
  }

  @Test
  void anAttemptRecordPostgresCannotStoreFailsAloneAndTheOthersAreRecorded() {
    String endpoint = "whe_iso_" + System.nanoTime();
    TestBackends.execute("INSERT INTO webhook_endpoints (id, url, secret) VALUES ('" + endpoint
        + "', 'http://127.0.0.1:9/', 'whsec_x')");
    TestBackends.execute("INSERT INTO events (id, type, data, fanned_out) SELECT 'evt_" + endpoint + "_' || g, 'iso.test', "
        + "'{}', true FROM generate_series(1, 20) g");
    TestBackends.execute("INSERT INTO deliveries (id, event_id, endpoint_id) SELECT 'dlv_" + endpoint + "_' || g, "
        + "'evt_" + endpoint + "_' || g, '" + endpoint + "' FROM generate_series(1, 20) g");
    DeliveryStore store = new DeliveryStore(pool);
    List<DeliveryStore.Attempt> attempts = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      attempts.add(new DeliveryStore.Attempt("dlv_" + endpoint + "_" + i, endpoint, 1, "succeeded", Instant.now(), null,
          200, 5, "success", null, i == 7 ? "body with a \u0000 NUL" : "fine"));
    }
    // AttemptRecorder's own writer is private to it; this is the same statement on the same batcher.
    List<Promise<Boolean>> promises = new ArrayList<>();
    DistributionSummary rows = new GatewayMetrics().writeBatchRows("delivery_attempts");
    MicroBatcher<Integer> batcher = new MicroBatcher<>(context, "delivery attempts", 1000, 1, 1000, Duration.ZERO, rows,
        new MicroBatcher.Writer<>() {
          @Override
          public Future<?> write(List<Integer> batch) {
            return store.record(batch.stream().map(attempts::get).toList()).onSuccess(ids ->
                batch.forEach(i -> promises.get(i).tryComplete(ids.contains(attempts.get(i).deliveryId()))));
          }

          @Override
          public void fail(Integer item, Throwable error) {
            promises.get(item).tryFail(error);
          }

          @Override
          public ApiError diagnose(Integer item) {
            return null;
          }
        });
    List<Outcome<Boolean>> out = inOneTurn(() -> {
      List<Future<Boolean>> futures = new ArrayList<>();
      for (int i = 0; i < attempts.size(); i++) {
        promises.add(Promise.promise());
        batcher.add(i);
        futures.add(promises.get(i).future());
      }
      return futures;
    });
    for (int i = 0; i < out.size(); i++) {
      if (i == 6) {
        assertThat(out.get(i).error().status()).isEqualTo(400);
      } else {
        assertThat(out.get(i).result()).as("attempt " + (i + 1) + " recorded").isTrue();
      }
    }
    assertThat(TestBackends.queryLong("SELECT count(*) FROM delivery_attempts WHERE endpoint_id = ?", endpoint))
        .isEqualTo(19);
    // Every statement is measured, the halves too: 20 refused; 0-9 refused, 10-19; 0-4, 5-9 refused; 5-6 refused,
    // 7-9; 5, and 6 refused alone.
    assertThat(rows.count()).as("statements measured").isEqualTo(9);
    assertThat(rows.totalAmount()).as("rows measured").isEqualTo(20 + 10 + 10 + 5 + 5 + 2 + 3 + 1 + 1);
    assertThat(rows.max()).isEqualTo(20);
    TestBackends.execute("DELETE FROM webhook_endpoints WHERE id = '" + endpoint + "'");
  }
}
