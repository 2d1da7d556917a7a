package io.postback.gateway.click;

import io.postback.gateway.batch.MicroBatcher;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.text.StorableText;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes clicks in micro-batches ({@link MicroBatcher}), like conversions: the clicks of one event-loop
 * turn (and those that queue while earlier batches are in flight) go to Postgres as one
 * {@code INSERT ... SELECT unnest(...), ...}, one round trip and one commit. A click's future
 * completes when its batch has committed and Redis has it too ({@link ClickLookup#remember}, sent with the
 * batch so that its clicks go to Redis as one pipelined write, while the insert runs). Every stored value was
 * cleaned before (see {@link ClickRoutes}); a row Postgres still refuses fails alone ({@link MicroBatcher}).
 *
 * <p>One writer per verticle; all methods run on that verticle's event loop.
 */
public final class ClickWriter {
  private static final int MAX_BATCH = 512;
  // unnest in the select list (the calls run in step, one row per element) rather than in FROM, where
  // several functions first copy every row into a tuple store: a 16-row batch's executor time was about a
  // fifth lower (EXPLAIN ANALYZE, 150 interleaved runs of each form).
  private static final String INSERT = """
      INSERT INTO clicks (id, link_code, surface_id, affiliate_id, clicked_at, ip, user_agent, referrer,
                          sub1, sub2, sub3, sub4, sub5, affiliate_suspended)
      SELECT unnest($1::text[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::timestamptz[]),
             unnest($6::text[]), unnest($7::text[]), unnest($8::text[]), unnest($9::text[]), unnest($10::text[]),
             unnest($11::text[]), unnest($12::text[]), unnest($13::text[]), unnest($14::bool[])
      """;

  private record Pending(Click click, Duration attributionWindow, Promise<Void> promise) {
  }

  private final Pool pool;
  private final ClickLookup lookup;
  private final MicroBatcher<Pending> batcher;

  /** {@code maxQueued}: clicks allowed to wait for a batch; more fail at once. */
  public ClickWriter(Pool pool, ClickLookup lookup, Context context, int maxInFlight, int maxQueued,
                     GatewayMetrics metrics) {
    this(pool, lookup, context, maxInFlight, maxQueued, MicroBatcher.REGROUP, metrics);
  }

  /** {@code regroup}: how long a committed batch waits at most for the visitors it answered (MicroBatcher). */
  ClickWriter(Pool pool, ClickLookup lookup, Context context, int maxInFlight, int maxQueued, Duration regroup,
              GatewayMetrics metrics) {
    this.pool = pool;
    this.lookup = lookup;
    this.batcher = new MicroBatcher<>(context, "clicks", MAX_BATCH, maxInFlight, maxQueued, regroup,
        metrics.writeBatchRows("clicks"), new MicroBatcher.Writer<>() {
          @Override
          public Future<?> write(List<Pending> batch) {
            return flush(batch);
          }

          @Override
          public void fail(Pending item, Throwable error) {
            item.promise().tryFail(error);
          }

          @Override
          public ApiError diagnose(Pending item) {
            return ClickWriter.diagnose(item.click());
          }
        });
  }

  /**
   * Completes once the click is committed and remembered in Redis for the attribution window; fails when
   * it was not committed (Redis only saves a read, its failure fails nothing).
   */
  public Future<Void> write(Click click, Duration attributionWindow) {
    Pending pending = new Pending(click, attributionWindow, Promise.promise());
    batcher.add(pending);
    return pending.promise().future();
  }

  private Future<Void> flush(List<Pending> batch) {
    int n = batch.size();
    String[] ids = new String[n];
    String[] codes = new String[n];
    String[] surfaces = new String[n];
    String[] affiliates = new String[n];
    OffsetDateTime[] at = new OffsetDateTime[n];
    String[] ips = new String[n];
    String[] agents = new String[n];
    String[] referrers = new String[n];
    String[][] subs = new String[5][n];
    Boolean[] suspended = new Boolean[n];
    List<Click> clicks = new ArrayList<>(n);
    List<Duration> windows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Pending p = batch.get(i);
      Click c = p.click();
      clicks.add(c);
      windows.add(p.attributionWindow());
      ids[i] = c.id();
      codes[i] = c.linkCode();
      surfaces[i] = c.surfaceId();
      affiliates[i] = c.affiliateId();
      at[i] = OffsetDateTime.ofInstant(c.clickedAt(), ZoneOffset.UTC);
      ips[i] = c.ip();
      agents[i] = c.userAgent();
      referrers[i] = c.referrer();
      for (int s = 0; s < 5; s++) {
        subs[s][i] = c.subIds()[s];
      }
      suspended[i] = c.affiliateSuspended();
    }
    Tuple args = Tuple.from(List.of(ids, codes, surfaces, affiliates, at, ips, agents, referrers,
        subs[0], subs[1], subs[2], subs[3], subs[4], suspended));
    Future<Void> remembered = lookup.remember(clicks, windows);
    return pool.preparedQuery(INSERT).execute(args)
        .onSuccess(rows -> remembered.onComplete(cached -> batch.forEach(p -> p.promise().complete())))
        .mapEmpty();
  }

  /** The value of a click that Postgres cannot store, as a 400 naming it; null when all look storable. */
  static ApiError diagnose(Click c) {
    String[][] texts = {{"sub1", c.subIds()[0]}, {"sub2", c.subIds()[1]}, {"sub3", c.subIds()[2]},
        {"sub4", c.subIds()[3]}, {"sub5", c.subIds()[4]}, {"User-Agent", c.userAgent()}, {"Referer", c.referrer()},
        {"ip", c.ip()}};
    for (String[] field : texts) {
      String problem = StorableText.problem(field[1]);
      if (problem != null) {
        return ApiError.invalidField(field[0], field[0] + " " + problem);
      }
    }
    return null;
  }
}
