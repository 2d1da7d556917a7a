package io.postback.gateway.dedupe;

import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.redis.RedisChannel;
import io.postback.gateway.redis.RedisScript;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * The fast duplicate filter in front of Postgres' unique constraint.
 *
 * <p>A key {@code dd:<surface>:<externalId>} is claimed with SET NX semantics holding a short-lived
 * "in flight" marker; after Postgres commits, it is overwritten with the committed outcome. Only a
 * committed outcome ever answers "duplicate" from Redis. A marker left by a request whose Postgres
 * write failed (or whose process died) merely sends the retry on to Postgres, which decides. So no
 * failure order can make Redis call a lost conversion a duplicate, and when Redis is unreachable every
 * request goes to Postgres.
 */
public final class DedupeFilter {
  private static final Logger LOG = LoggerFactory.getLogger(DedupeFilter.class);
  static final String IN_FLIGHT = "~";
  private static final byte IN_FLIGHT_BYTE = '~';
  // GET then SET NX in one atomic step: returns the committed outcome, the marker, or nil when claimed.
  // Redis 7 does this natively (SET … NX GET), a fraction of a script's cost; the script is for 6.2.
  private static final RedisScript CLAIM_SCRIPT = new RedisScript("""
      local v = redis.call('GET', KEYS[1])
      if v then return v end
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
      return false
      """);
  private static final String IN_FLIGHT_TTL_MS = "30000";

  private final RedisChannel redis;
  private final GatewayMetrics metrics;
  private final String outcomeTtlSeconds;

  public DedupeFilter(RedisChannel redis, GatewayMetrics metrics, Duration outcomeTtl) {
    this.redis = redis;
    this.metrics = metrics;
    this.outcomeTtlSeconds = String.valueOf(Math.max(1, outcomeTtl.toSeconds()));
  }

  public static String key(String surfaceId, String externalId) {
    return "dd:" + surfaceId + ':' + externalId;
  }

  /**
   * Claims the key. The future holds the committed outcome's JSON bytes when this is a known duplicate, or
   * null when the request must go on to Postgres. It never fails: Redis trouble means "go on".
   */
  public Future<Buffer> claim(String surfaceId, String externalId) {
    String key = key(surfaceId, externalId);
    Future<Response> claimed = redis.atLeastRedis7()
        ? redis.send(Request.cmd(Command.SET).arg(key).arg(IN_FLIGHT).arg("PX").arg(IN_FLIGHT_TTL_MS).arg("NX").arg("GET"))
        : CLAIM_SCRIPT.run(redis, new String[] {key}, IN_FLIGHT, IN_FLIGHT_TTL_MS);
    return claimed
        .map(r -> {
          if (r == null) {
            return null;
          }
          Buffer v = r.toBuffer();
          return v.length() == 1 && v.getByte(0) == IN_FLIGHT_BYTE ? null : v;
        })
        .otherwise(e -> {
          metrics.redisFallback("dedupe_claim");
          LOG.debug("dedupe claim without Redis: {}", e.toString());
          return null;
        });
  }

  /** Stores the committed outcome so later repeats are answered from Redis. Best effort. */
  public void remember(String surfaceId, String externalId, Buffer outcomeJson) {
    redis.send(Request.cmd(Command.SET).arg(key(surfaceId, externalId)).arg(outcomeJson)
            .arg("EX").arg(outcomeTtlSeconds))
        .onFailure(e -> metrics.redisFallback("dedupe_remember"));
  }
}
