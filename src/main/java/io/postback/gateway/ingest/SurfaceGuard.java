package io.postback.gateway.ingest;

import io.postback.gateway.http.ApiError;
import io.postback.gateway.surface.Surface;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-surface protection of every inbound form (SPEC §3.1, §3.3): the IP allowlist (403) and a token
 * bucket (429 with Retry-After). The buckets are per gateway instance, shared by its verticles: with N
 * instances behind a balancer a surface may get up to N times its rate, which is accepted in exchange
 * for no Redis round trip per postback. Each request costs one token (a batch request too).
 */
public final class SurfaceGuard {
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

  /** 403 when the source address is not on the surface's allowlist. */
  public void checkSource(Surface surface, String remoteAddress) {
    if (!surface.allows(remoteAddress)) {
      throw ApiError.of(403, "ip_not_allowed", "The source address " + remoteAddress
          + " is not on this surface's IP allowlist");
    }
  }

  /** 429 with Retry-After when the surface's bucket is empty. */
  public void checkRate(Surface surface) {
    Integer rate = surface.rateLimitPerSecond();
    if (rate == null) {
      return;
    }
    int burst = surface.rateLimitBurst() != null ? surface.rateLimitBurst() : rate;
    Bucket bucket = buckets.compute(surface.id(), (id, b) -> b != null && b.rate == rate && b.burst == burst
        ? b : new Bucket(rate, burst));
    long waitNanos = bucket.take(System.nanoTime());
    if (waitNanos > 0) {
      int seconds = (int) Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
      throw ApiError.retryable(429, "rate_limited", "This surface is over its rate limit of " + rate
          + " postbacks per second; retry after " + seconds + " s", seconds);
    }
  }

  /** A token bucket of {@code burst} tokens refilled at {@code rate} per second. */
  private static final class Bucket {
    final int rate;
    final int burst;
    private double tokens;
    private long last;

    Bucket(int rate, int burst) {
      this.rate = rate;
      this.burst = burst;
      this.tokens = burst;
      this.last = System.nanoTime();
    }

    /** Takes a token; returns 0, or the nanoseconds until one is available. */
    synchronized long take(long now) {
      tokens = Math.min(burst, tokens + (now - last) * rate / 1e9);
      last = now;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return (long) ((1 - tokens) * 1e9 / rate);
    }
  }
}
