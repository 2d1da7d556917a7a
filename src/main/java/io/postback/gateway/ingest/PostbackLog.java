package io.postback.gateway.ingest;

import io.postback.gateway.ops.GatewayMetrics;
import io.postback.gateway.store.RedisChannel;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.time.Instant;
import java.util.List;

/**
 * The recent inbound postbacks of a surface with their outcome or rejection reason: a debugger for
 * integrators ({@code GET /admin/postback-log}). A capped Redis list per surface (LPUSH + LTRIM,
 * pipelined, not awaited): bounded by construction, and best effort, a postback never waits for it.
 * Entries hold what the gateway decided and why, never a secret, signature or token.
 */
public final class PostbackLog {
  public static final int CAPACITY = 200;
  private static final String TRIM_TO = String.valueOf(CAPACITY - 1);

  private final RedisChannel redis;
  private final GatewayMetrics metrics;

  public PostbackLog(RedisChannel redis, GatewayMetrics metrics) {
    this.redis = redis;
    this.metrics = metrics;
  }

  static String key(String surfaceId) {
    return "pl:" + surfaceId;
  }

  /** Appends an entry (stamped now) for a surface that exists. */
  public void record(String surfaceId, JsonObject entry) {
    String key = key(surfaceId);
    entry.put("at", Instant.now().toString());
    redis.batch(List.of(
            Request.cmd(Command.LPUSH).arg(key).arg(entry.encode()),
            Request.cmd(Command.LTRIM).arg(key).arg("0").arg(TRIM_TO)))
        .onFailure(e -> metrics.redisFallback("postback_log"));
  }

  /** The newest {@code limit} entries, newest first. */
  public Future<JsonArray> recent(String surfaceId, int limit) {
    return redis.send(Request.cmd(Command.LRANGE).arg(key(surfaceId)).arg("0").arg(String.valueOf(limit - 1)))
        .map(r -> {
          JsonArray out = new JsonArray();
          if (r != null) {
            for (Response item : r) {
              out.add(new JsonObject(item.toString()));
            }
          }
          return out;
        });
  }
}
