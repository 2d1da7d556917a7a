package io.postback.gateway.click;

import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.redis.RedisChannel;
import io.vertx.core.Future;
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
  private static final String FIND = "SELECT surface_id, affiliate_id, link_code, clicked_at, affiliate_suspended "
      + "FROM clicks WHERE id = $1";
  private static final String[] NO_SUBS = new String[5];

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

  /** Caches what attribution needs of the click for the window (at most maxTtl). Never fails: Postgres has it anyway. */
  public Future<Void> remember(Click click, Duration attributionWindow) {
    Duration ttl = attributionWindow.compareTo(maxTtl) < 0 ? attributionWindow : maxTtl;
    String value = click.surfaceId() + '\t' + click.affiliateId() + '\t' + click.clickedAt().toEpochMilli() + '\t'
        + (click.affiliateSuspended() ? '1' : '0') + '\t' + click.linkCode();
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
      return new Click(clickId, r.getString("link_code"), r.getString("surface_id"), r.getString("affiliate_id"),
          r.getOffsetDateTime("clicked_at").toInstant(), null, null, null, NO_SUBS, r.getBoolean("affiliate_suspended"));
    });
  }

  private static Click parse(String clickId, String value) {
    String[] f = value.split("\t", 5);
    if (f.length != 5) {
      return null;
    }
    return new Click(clickId, f[4], f[0], f[1], Instant.ofEpochMilli(Long.parseLong(f[2])), null, null, null,
        NO_SUBS, "1".equals(f[3]));
  }
}
