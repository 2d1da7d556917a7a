package io.postback.gateway.ingest;

import io.postback.gateway.http.ApiError;
import io.postback.gateway.limit.TokenBucket;
import io.postback.gateway.surface.Surface;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-surface protection of every inbound form (SPEC §3.1, §3.3): the IP allowlist (403) and a token
 * bucket (429 with Retry-After). The buckets are per gateway instance, shared by its verticles: with N
 * instances behind a balancer a surface may get up to N times its rate, which is accepted in exchange
 * for no Redis round trip per postback.
 *
 * <p>Each conversion costs one token: a single postback one, a batch one per item. A batch is charged
 * whole or not at all: when its items need more tokens than are left it is refused (429, Retry-After
 * long enough for its size) and nothing of it is submitted; a batch larger than the burst could never
 * pass and is refused with 413 {@code too_many_items}, naming the burst, so the sender splits it instead
 * of retrying.
 */
public final class SurfaceGuard {
  private final Map<String, TokenBucket> buckets = new ConcurrentHashMap<>();

  /** 403 when the client address is not on the surface's allowlist. */
  public void checkSource(Surface surface, String clientAddress) {
    if (!surface.allows(clientAddress)) {
      throw ApiError.of(403, "ip_not_allowed", "The source address " + clientAddress
          + " is not on this surface's IP allowlist");
    }
  }

  /** Takes one token; 429 with Retry-After when the surface's bucket is empty. */
  public void checkRate(Surface surface) {
    checkRate(surface, 1);
  }

  /** Takes {@code conversions} tokens at once, or none: 429 with Retry-After, or 413 when more than the burst. */
  public void checkRate(Surface surface, int conversions) {
    Integer rate = surface.rateLimitPerSecond();
    if (rate == null || conversions == 0) {
      return;
    }
    int burst = surface.rateLimitBurst() != null ? surface.rateLimitBurst() : rate;
    if (conversions > burst) {
      throw ApiError.of(413, "too_many_items", "This surface's rate limit lets at most " + burst
          + " conversions through at once; this batch has " + conversions + ": split it into batches of at most "
          + burst);
    }
    TokenBucket bucket = buckets.compute(surface.id(), (id, b) -> b != null && b.rate() == rate && b.burst() == burst
        ? b : new TokenBucket(rate, burst));
    long waitNanos = bucket.take(conversions, System.nanoTime());
    if (waitNanos > 0) {
      int seconds = TokenBucket.retryAfterSeconds(waitNanos);
      throw ApiError.retryable(429, "rate_limited", "This surface is over its rate limit of " + rate
          + " conversions per second" + (conversions > 1 ? " (this batch needs " + conversions + ")" : "")
          + "; retry after " + seconds + " s", seconds);
    }
  }
}
