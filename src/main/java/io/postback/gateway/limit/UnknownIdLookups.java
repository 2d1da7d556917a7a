package io.postback.gateway.limit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.postback.gateway.metrics.GatewayMetrics;
import io.vertx.core.Future;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Bounds what ids unknown to an in-memory registry (surface ids, link codes) can cost Postgres. An id
 * not in memory may have been created a moment ago by another instance, so it is looked up, but:
 * <ul>
 *   <li>at most {@code perSecond} look-ups per second reach Postgres (one budget per kind and instance);
 *       past it the id is answered unknown without a query. Junk volume therefore costs a fixed number of
 *       queries, never one each;</li>
 *   <li>an id Postgres did not have is remembered as unknown for {@link #NEGATIVE_TTL}. Only ids that
 *       were actually queried enter this cache, so it grows at most at the budget's rate and junk
 *       volume cannot flush it; its size bound is a safety net;</li>
 *   <li>concurrent requests for the same id share one query.</li>
 * </ul>
 * A remembered or over-budget "unknown" never hides a real id for long: the registry's poll loads ids
 * created elsewhere (and {@link #known} forgets them here), and ids created through this instance are
 * in memory at once. Every decision is counted in {@code gateway_unknown_id_lookups_total{kind,outcome}}:
 * {@code found}, {@code absent} and {@code failed} reached Postgres; {@code cached} and {@code over_budget}
 * did not.
 */
public final class UnknownIdLookups {
  public static final Duration NEGATIVE_TTL = Duration.ofMinutes(1);
  private static final long NEGATIVE_MAX = 100_000;

  private final String kind;
  private final TokenBucket budget;
  private final GatewayMetrics metrics;
  private final Cache<String, Boolean> unknown = Caffeine.newBuilder()
      .maximumSize(NEGATIVE_MAX)
      .expireAfterWrite(NEGATIVE_TTL)
      .build();
  private final Map<String, Future<?>> inFlight = new ConcurrentHashMap<>();

  public UnknownIdLookups(String kind, int perSecond, GatewayMetrics metrics) {
    this.kind = kind;
    this.budget = new TokenBucket(perSecond, perSecond);
    this.metrics = metrics;
  }

  /** The query's answer for an id not in memory, or null (unknown) when remembered or over budget. */
  @SuppressWarnings("unchecked")
  public <T> Future<T> lookUp(String id, Function<String, Future<T>> query) {
    if (unknown.getIfPresent(id) != null) {
      metrics.unknownIdLookup(kind, "cached");
      return Future.succeededFuture();
    }
    Future<?> running = inFlight.get(id);
    if (running != null) {
      return (Future<T>) running;
    }
    if (budget.take() > 0) {
      metrics.unknownIdLookup(kind, "over_budget");
      return Future.succeededFuture();
    }
    Future<T> looked = query.apply(id);
    inFlight.put(id, looked);
    looked.onComplete(ar -> {
      inFlight.remove(id, looked);
      if (ar.failed()) {
        metrics.unknownIdLookup(kind, "failed");
      } else if (ar.result() == null) {
        unknown.put(id, Boolean.TRUE);
        metrics.unknownIdLookup(kind, "absent");
      } else {
        metrics.unknownIdLookup(kind, "found");
      }
    });
    return looked;
  }

  /** The id exists (created here, or loaded by a poll): never answer it unknown again. */
  public void known(String id) {
    unknown.invalidate(id);
  }
}
