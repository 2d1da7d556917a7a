package io.postback.gateway.limit;

import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.redis.RedisChannel;
import io.postback.gateway.redis.RedisScript;
import io.vertx.core.Future;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A rate limit held in Redis, so that all gateway instances together admit the configured rate: one
 * GCRA key per limited thing (a surface), updated by one script call per request whatever its token
 * count, on Redis' clock (instances need no synchronised clocks). GCRA admits exactly what a token
 * bucket of {@code burst} tokens refilled at {@code rate} per second would, in one stored number.
 *
 * <p>When Redis does not answer within its deadline, each instance falls back to a local bucket holding
 * its share, {@code rate ÷ expectedInstances} (at least 1 per second), so the fleet stays near the rate
 * instead of either refusing everything or admitting N times it; each such decision counts in
 * {@code gateway_redis_fallbacks_total{operation="rate_limit"}}. One object per gateway instance (the
 * local shares are the instance's); the Redis connection is the calling verticle's.
 */
public final class SharedRateLimit {
  // KEYS[1]: the theoretical arrival time, in µs of Redis' clock. ARGV: rate per second, burst, tokens.
  // Answers 0 when the tokens were taken, else the µs until they will be available.
  private static final RedisScript GCRA = new RedisScript("""
      local t = redis.call('TIME')
      local now = t[1] * 1000000 + t[2]
      local interval = 1000000 / tonumber(ARGV[1])
      local tat = tonumber(redis.call('GET', KEYS[1])) or now
      if tat < now then tat = now end
      local newTat = tat + tonumber(ARGV[3]) * interval
      local allowAt = newTat - tonumber(ARGV[2]) * interval
      if allowAt > now then return math.ceil(allowAt - now) end
      redis.call('SET', KEYS[1], string.format('%.0f', newTat), 'PX', string.format('%.0f', math.ceil((newTat - now) / 1000) + 1))
      return 0
      """);
  // While Redis is down a batch larger than the local share is told to come back once Redis may be.
  private static final long LOCAL_SHARE_TOO_SMALL_NANOS = 1_000_000_000L;

  private final int expectedInstances;
  private final GatewayMetrics metrics;
  private final Map<String, TokenBucket> localShares = new ConcurrentHashMap<>();

  public SharedRateLimit(int expectedInstances, GatewayMetrics metrics) {
    this.expectedInstances = expectedInstances;
    this.metrics = metrics;
  }

  /** The Redis key of a surface's limit; the hash tag keeps it (one key) valid on a cluster. */
  public static String surfaceKey(String surfaceId) {
    return "rl:{" + surfaceId + "}";
  }

  /**
   * Takes {@code n} tokens (1 ≤ n ≤ burst) of {@code key}'s limit, all or none. The future holds 0 when
   * taken, else the nanoseconds until they will be; it never fails.
   */
  public Future<Long> take(RedisChannel redis, String key, int rate, int burst, int n) {
    return GCRA.run(redis, new String[] {key}, rate, burst, n)
        .map(r -> r.toLong() * 1_000L)
        .otherwise(e -> {
          metrics.redisFallback("rate_limit");
          return takeLocalShare(key, rate, burst, n);
        });
  }

  private long takeLocalShare(String key, int rate, int burst, int n) {
    int shareRate = Math.max(1, rate / expectedInstances);
    int shareBurst = Math.max(1, burst / expectedInstances);
    if (n > shareBurst) {
      return LOCAL_SHARE_TOO_SMALL_NANOS;
    }
    TokenBucket bucket = localShares.compute(key, (k, b) -> b != null && b.rate() == shareRate && b.burst() == shareBurst
        ? b : new TokenBucket(shareRate, shareBurst));
    return bucket.take(n, System.nanoTime());
  }
}
