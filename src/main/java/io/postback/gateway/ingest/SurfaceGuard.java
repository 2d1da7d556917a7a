package io.postback.gateway.ingest;

import io.postback.gateway.http.ApiError;
import io.postback.gateway.limit.SharedRateLimit;
import io.postback.gateway.limit.TokenBucket;
import io.postback.gateway.redis.RedisChannel;
import io.postback.gateway.surface.Surface;
import io.vertx.core.Future;

/**
 * Per-surface protection of every inbound form (SPEC §3.1, §3.3): the IP allowlist (403) and a token
 * limit (429 with Retry-After). The limit is held in Redis, so all instances together admit the surface's
 * rate; when Redis does not answer, each instance admits its share of it (see {@link SharedRateLimit}).
 * One guard per HTTP verticle, on the verticle's Redis connection; a surface without a limit costs no
 * Redis call.
 *
 * <p>Each conversion costs one token: a single postback one, a batch one per item. A batch is charged
 * whole or not at all: when its items need more tokens than are left it is refused (429, Retry-After
 * long enough for its size) and nothing of it is submitted; a batch larger than the burst could never
 * pass and is refused with 413 {@code too_many_items}, naming the burst, so the sender splits it instead
 * of retrying.
 */
public final class SurfaceGuard {
  private final RedisChannel redis;
  private final SharedRateLimit limit;

  public SurfaceGuard(RedisChannel redis, SharedRateLimit limit) {
    this.redis = redis;
    this.limit = limit;
  }

  /** 403 when the client address is not on the surface's allowlist. */
  public void checkSource(Surface surface, String clientAddress) {
    if (!surface.allows(clientAddress)) {
      throw ApiError.of(403, "ip_not_allowed", "The source address " + clientAddress
          + " is not on this surface's IP allowlist");
    }
  }

  /** Takes one token; fails with 429 with Retry-After when the surface's bucket is empty. */
  public Future<Surface> checkRate(Surface surface) {
    return checkRate(surface, 1);
  }

  /** Takes {@code conversions} tokens at once, or none: 429 with Retry-After, or 413 when more than the burst. */
  public Future<Surface> checkRate(Surface surface, int conversions) {
    Integer rate = surface.rateLimitPerSecond();
    if (rate == null || conversions == 0) {
      return Future.succeededFuture(surface);
    }
    int burst = surface.rateLimitBurst() != null ? surface.rateLimitBurst() : rate;
    if (conversions > burst) {
      throw ApiError.of(413, "too_many_items", "This surface's rate limit lets at most " + burst
          + " conversions through at once; this batch has " + conversions + ": split it into batches of at most "
          + burst);
    }
    return limit.take(redis, SharedRateLimit.surfaceKey(surface.id()), rate, burst, conversions).map(waitNanos -> {
      if (waitNanos > 0) {
        int seconds = TokenBucket.retryAfterSeconds(waitNanos);
        throw ApiError.retryable(429, "rate_limited", "This surface is over its rate limit of " + rate
            + " conversions per second" + (conversions > 1 ? " (this batch needs " + conversions + ")" : "")
            + "; retry after " + seconds + " s", seconds);
      }
      return surface;
    });
  }
}
