package io.postback.gateway.click;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.redis.RedisChannel;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the click a conversion names: first in Redis ({@code ck:<clickId>}, written next to the click
 * row), then in Postgres. Redis only saves the Postgres read: a click is answered with its redirect
 * only after its row committed, so Postgres always has it. The Redis copy lives for the surface's
 * attribution window but at most {@code maxTtl} (default 24 h): most conversions follow their click
 * within hours, and 30 days of clicks at a high click rate would not fit in memory; an older click
 * costs one primary-key read.
 */
public final class ClickLookup {
  private static final String FIND = "SELECT surface_id, affiliate_id, link_code, clicked_at, affiliate_suspended, ip, "
      + "sub1, sub2, sub3, sub4, sub5 FROM clicks WHERE id = $1";

  private static final JsonStringEncoder JSON_TEXT = JsonStringEncoder.getInstance();

  private final RedisChannel redis;
  private final Pool pool;
  private final GatewayMetrics metrics;
  private final Duration maxTtl;

  public ClickLookup(RedisChannel redis, Pool pool, GatewayMetrics metrics, Duration maxTtl) {
    this.redis = redis;
    this.pool = pool;
    this.metrics = metrics;
    this.maxTtl = maxTtl;
  }

  static String key(String clickId) {
    return "ck:" + clickId;
  }

  /**
   * Caches what attribution needs of each click, and what it copies onto the conversion it credits (link,
   * IP, sub-ids), for its surface's attribution window (at most maxTtl). A batch's commands are sent in one
   * event-loop turn, so they go to Redis as one pipelined write. Never fails: Postgres has the clicks anyway.
   */
  public Future<Void> remember(List<Click> clicks, List<Duration> attributionWindows) {
    List<Future<Response>> sent = new ArrayList<>(clicks.size());
    for (int i = 0; i < clicks.size(); i++) {
      Click click = clicks.get(i);
      Duration window = attributionWindows.get(i);
      Duration ttl = window.compareTo(maxTtl) < 0 ? window : maxTtl;
      sent.add(redis.send(Request.cmd(Command.SET).arg(key(click.id())).arg(value(click))
          .arg("PX").arg(Math.max(1_000, ttl.toMillis()))));
    }
    return Future.join(sent)
        .<Void>mapEmpty()
        .otherwise(e -> {
          metrics.redisFallback("click_remember");
          return null;
        });
  }

  /**
   * The cached form, {@code [surface, affiliate, clickedAtMillis, suspended, link, ip, [sub1..sub5]]}: written
   * by hand rather than through a JsonArray (whose encoding goes through Jackson's object mapper), because
   * every click writes one; {@link #parse} reads it back.
   */
  static String value(Click click) {
    StringBuilder out = new StringBuilder(160).append('[');
    string(out, click.surfaceId()).append(',');
    string(out, click.affiliateId()).append(',').append(click.clickedAt().toEpochMilli()).append(',')
        .append(click.affiliateSuspended()).append(',');
    string(out, click.linkCode()).append(',');
    string(out, click.ip()).append(",[");
    String[] subs = click.subIds();
    for (int i = 0; i < subs.length; i++) {
      string(i == 0 ? out : out.append(','), subs[i]);
    }
    return out.append("]]").toString();
  }

  private static StringBuilder string(StringBuilder out, String value) {
    if (value == null) {
      return out.append("null");
    }
    JSON_TEXT.quoteAsString(value, out.append('"'));
    return out.append('"');
  }

  /** The click, or null when there is none with that id. Fails only when Postgres fails. */
  public Future<Click> find(String clickId) {
    return redis.send(Request.cmd(Command.GET).arg(key(clickId)))
        .map(r -> r == null ? null : parse(clickId, r.toString()))
        .otherwise(e -> {
          metrics.redisFallback("click_lookup");
          return null;
        })
        .compose(cached -> cached != null ? Future.succeededFuture(cached) : fromPostgres(clickId));
  }

  private Future<Click> fromPostgres(String clickId) {
    return pool.preparedQuery(FIND).execute(Tuple.of(clickId)).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row r = rows.iterator().next();
      String[] subs = {r.getString("sub1"), r.getString("sub2"), r.getString("sub3"), r.getString("sub4"), r.getString("sub5")};
      return new Click(clickId, r.getString("link_code"), r.getString("surface_id"), r.getString("affiliate_id"),
          r.getOffsetDateTime("clicked_at").toInstant(), r.getString("ip"), null, null, subs,
          r.getBoolean("affiliate_suspended"));
    });
  }

  /** The cached click, or null for a value of another form (an earlier version's): Postgres answers then. */
  private static Click parse(String clickId, String value) {
    if (!value.startsWith("[")) {
      return null;
    }
    JsonArray f = new JsonArray(value);
    JsonArray subs = f.getJsonArray(6);
    String[] subIds = new String[subs.size()];
    for (int i = 0; i < subIds.length; i++) {
      subIds[i] = subs.getString(i);
    }
    return new Click(clickId, f.getString(4), f.getString(0), f.getString(1), Instant.ofEpochMilli(f.getLong(2)),
        f.getString(5), null, null, subIds, f.getBoolean(3));
  }
}
