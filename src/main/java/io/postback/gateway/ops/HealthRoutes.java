package io.postback.gateway.ops;

import io.netty.handler.codec.http.HttpHeaderValues;
import io.postback.gateway.http.RouteOrder;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.redis.RedisChannel;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.sqlclient.Pool;

/** {@code /health/live} and {@code /health/ready} (Postgres and Redis both answer). */
public final class HealthRoutes {
  private static final Buffer LIVE = Buffer.buffer("{\"status\":\"up\"}");

  private final Pool pool;
  private final RedisChannel redis;
  private final GatewayMetrics metrics;
  private final PostgresProbe probe;

  public HealthRoutes(Pool pool, RedisChannel redis, GatewayMetrics metrics) {
    this.pool = pool;
    this.redis = redis;
    this.metrics = metrics;
    this.probe = new PostgresProbe(metrics);
  }

  public void mount(Router router) {
    router.get("/health/live").order(RouteOrder.HOT_PATH).handler(ctx -> ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .end(LIVE));
    router.get("/health/ready").order(RouteOrder.HOT_PATH).handler(this::ready);
  }

  private void ready(RoutingContext ctx) {
    Future<Boolean> pg = probe.check(pool);
    Future<Boolean> rd = redis.send(Request.cmd(Command.PING)).map(true).otherwise(false);
    Future.join(pg, rd).onComplete(ar -> {
      boolean pgUp = pg.result();
      boolean redisUp = rd.result();
      boolean ready = pgUp && redisUp;
      JsonObject body = new JsonObject()
          .put("status", ready ? "ready" : "not_ready")
          .put("postgres", pgUp ? "up" : "down")
          .put("redis", redisUp ? "up" : "down");
      if (!ready) {
        ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
      }
      ctx.response()
          .setStatusCode(ready ? 200 : 503)
          .putHeader(HttpHeaders.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
          .end(body.toBuffer());
    });
  }
}
