package io.postback.gateway.click;

import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.redis.RedisChannel;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.time.Instant;

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
   * Caches what attribution needs of the click, and what it copies onto the conversion it credits (link,
   * IP, sub-ids), for the window (at most maxTtl). Never fails: Postgres has it anyway.
   */
  public Future<Void> remember(Click click, Duration attributionWindow) {
    Duration ttl = attributionWindow.compareTo(maxTtl) < 0 ? attributionWindow : maxTtl;
    JsonArray subs = new JsonArray();
    for (String sub : click.subIds()) {
      subs.add(sub);
    }
    String value = new JsonArray().add(click.surfaceId()).add(click.affiliateId()).add(click.clickedAt().toEpochMilli())
        .add(click.affiliateSuspended()).add(click.linkCode()).add(click.ip()).add(subs).encode();
    return redis.send(Request.cmd(Command.SET).arg(key(click.id())).arg(value)
            .arg("PX").arg(String.valueOf(Math.max(1_000, ttl.toMillis()))))
        .<Void>mapEmpty()
        .otherwise(e -> {
          metrics.redisFallback("click_remember");
          return null;
        });
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
