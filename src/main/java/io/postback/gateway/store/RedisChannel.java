package io.postback.gateway.store;

import io.postback.gateway.ops.GatewayMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One long-lived Redis connection per verticle: commands from concurrent requests are pipelined on it.
 * Every command has a deadline; while Redis is down, calls fail at once (no connect attempt) until
 * the next reconnect slot, so a dead Redis costs requests nothing but the fallback.
 */
public final class RedisChannel {
  private static final Logger LOG = LoggerFactory.getLogger(RedisChannel.class);
  private static final long RECONNECT_BACKOFF_MS = 1_000;
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private final Vertx vertx;
  private final Redis client;
  private final long timeoutMs;
  private final GatewayMetrics metrics;
  private Future<RedisConnection> connection;
  private long nextConnectAttempt;
  private boolean closed;

  public RedisChannel(Vertx vertx, String url, Duration timeout, GatewayMetrics metrics) {
    this.vertx = vertx;
    this.timeoutMs = timeout.toMillis();
    this.metrics = metrics;
    RedisOptions options = new RedisOptions().setConnectionString(url).setMaxWaitingHandlers(100_000)
        .setPoolName("redis-" + INSTANCES.getAndIncrement());
    options.getNetClientOptions().setConnectTimeout((int) Math.max(timeoutMs * 4, 1_000)).setTcpNoDelay(true);
    this.client = Redis.createClient(vertx, options);
  }

  public Future<Response> send(Request request) {
    return connection()
        .compose(c -> c.send(request))
        .timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .andThen(ar -> onResult(ar.failed() ? ar.cause() : null));
  }

  public Future<List<Response>> batch(List<Request> requests) {
    return connection()
        .compose(c -> c.batch(requests))
        .timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .andThen(ar -> onResult(ar.failed() ? ar.cause() : null));
  }

  public void close() {
    closed = true;
    if (connection != null && connection.succeeded()) {
      connection.result().close();
    }
    client.close();
  }

  private Future<RedisConnection> connection() {
    if (connection != null && !connection.failed()) {
      return connection;
    }
    long now = System.currentTimeMillis();
    if (connection != null && now < nextConnectAttempt) {
      return connection;
    }
    nextConnectAttempt = now + RECONNECT_BACKOFF_MS;
    Future<RedisConnection> attempt = client.connect().map(c -> {
      c.exceptionHandler(e -> reset(c, e));
      c.endHandler(v -> reset(c, null));
      return c;
    });
    connection = attempt;
    return attempt;
  }

  private void reset(RedisConnection c, Throwable cause) {
    if (connection != null && connection.succeeded() && connection.result() == c) {
      connection = Future.failedFuture(cause != null ? cause : new IllegalStateException("Redis connection closed"));
      onResult(connection.cause());
    }
  }

  private void onResult(Throwable failure) {
    if (closed) {
      return;
    }
    if (failure == null) {
      if (metrics.dependencyUp("redis", true)) {
        LOG.info("Redis answers again");
      }
      return;
    }
    if (failure instanceof TimeoutException) {
      // A timed-out command may leave the connection stuck behind it: start over on a fresh one.
      if (connection != null && connection.succeeded()) {
        RedisConnection c = connection.result();
        connection = Future.failedFuture(failure);
        c.close();
      }
    }
    if (metrics.dependencyUp("redis", false)) {
      LOG.warn("Redis is unavailable ({}); continuing without it, Postgres alone dedupes", failure.toString());
    }
  }
}
