package io.postback.gateway.ingest;

import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.redis.RedisChannel;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The recent inbound postbacks of a surface with their outcome or rejection reason: a debugger for
 * integrators ({@code GET /admin/postback-log}). A capped Redis list per surface (LPUSH + LTRIM,
 * pipelined, not awaited): bounded by construction, and best effort, a postback never waits for it.
 * The entries of one event-loop turn go out as one LPUSH and one LTRIM per surface, encoded and stamped there.
 * Entries hold what the gateway decided and why, never a secret, signature or token.
 */
public final class PostbackLog {
  public static final int CAPACITY = 200;
  private static final String TRIM_TO = String.valueOf(CAPACITY - 1);

  private final RedisChannel redis;
  private final GatewayMetrics metrics;
  private final Context context;
  private Map<String, List<JsonObject>> pending;

  /** Create it on the verticle's context; it is used from that event loop only. */
  public PostbackLog(RedisChannel redis, GatewayMetrics metrics) {
    this.redis = redis;
    this.metrics = metrics;
    this.context = Vertx.currentContext();
  }

  static String key(String surfaceId) {
    return "pl:" + surfaceId;
  }

  /** Appends an entry for a surface that exists; it is stamped when the entries of this event-loop turn go out. */
  public void record(String surfaceId, JsonObject entry) {
    if (pending == null) {
      pending = new HashMap<>();
      context.runOnContext(v -> flush());
    }
    pending.computeIfAbsent(surfaceId, id -> new ArrayList<>()).add(entry);
  }

  private void flush() {
    Map<String, List<JsonObject>> entries = pending;
    pending = null;
    // One stamp for the turn's entries: they were recorded within the same event-loop turn.
    String at = Instant.now().toString();
    entries.forEach((surfaceId, list) -> {
      Request push = Request.cmd(Command.LPUSH).arg(key(surfaceId));
      for (JsonObject entry : list) {
        push.arg(entry.put("at", at).encode());
      }
      redis.send(push).onFailure(e -> metrics.redisFallback("postback_log"));
      redis.send(Request.cmd(Command.LTRIM).arg(key(surfaceId)).arg("0").arg(TRIM_TO));
    });
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
