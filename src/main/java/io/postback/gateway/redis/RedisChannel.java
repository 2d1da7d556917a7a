package io.postback.gateway.redis;

import io.postback.gateway.metrics.GatewayMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisReplicas;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.types.ErrorType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One long-lived Redis connection per verticle: commands issued during one event-loop turn go out
 * together as one pipelined write (one syscall for many requests). Every command has a deadline, one
 * timer per pipelined write on the verticle's event loop (a per-command {@code Future.timeout} on a
 * promise without a context would schedule, and cancel, on Netty's global executor thread: a thread
 * woken several times per postback). While Redis is down, calls fail at once (no connect attempt) until
 * the next reconnect slot, so a dead Redis costs requests nothing but the fallback. Create it on the
 * verticle's context.
 */
public final class RedisChannel {
  private static final Logger LOG = LoggerFactory.getLogger(RedisChannel.class);
  private static final long RECONNECT_BACKOFF_MS = 1_000;
  private static final AtomicInteger INSTANCES = new AtomicInteger();
  /** {@code redis-cluster://host:port,host:port}: any of the cluster's nodes, the client finds the rest. */
  public static final String CLUSTER_SCHEME = "redis-cluster://";
  private static final Pattern REDIS_VERSION = Pattern.compile("redis_version:(\\d+)\\.");

  private final Vertx vertx;
  private final Context context;
  private final Redis client;
  private final long timeoutMs;
  private final GatewayMetrics metrics;
  private final boolean cluster;
  private Future<RedisConnection> connection;
  private long nextConnectAttempt;
  private boolean closed;
  private int serverMajorVersion;
  private List<Request> queued;
  private List<Promise<Response>> queuedReplies;

  public RedisChannel(Vertx vertx, String url, Duration timeout, GatewayMetrics metrics) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.timeoutMs = timeout.toMillis();
    this.metrics = metrics;
    this.cluster = url.startsWith(CLUSTER_SCHEME);
    RedisOptions options = new RedisOptions().setMaxWaitingHandlers(100_000)
        .setPoolName("redis-" + INSTANCES.getAndIncrement());
    if (cluster) {
      // Writes and scripts go to masters only: a replica would answer reads a moment behind.
      options.setType(RedisClientType.CLUSTER).setUseReplicas(RedisReplicas.NEVER).setEndpoints(clusterEndpoints(url));
    } else {
      options.setConnectionString(url);
    }
    options.getNetClientOptions().setConnectTimeout((int) Math.max(timeoutMs * 4, 1_000)).setTcpNoDelay(true);
    this.client = Redis.createClient(vertx, options);
  }

  public Future<Response> send(Request request) {
    if (queued == null) {
      queued = new ArrayList<>();
      queuedReplies = new ArrayList<>();
      context.runOnContext(v -> flushQueued());
    }
    Promise<Response> reply = Promise.promise();
    queued.add(request);
    queuedReplies.add(reply);
    // Redis' availability is judged once per pipelined write (flushQueued), not per reply.
    return reply.future();
  }

  private void flushQueued() {
    List<Request> requests = queued;
    List<Promise<Response>> replies = queuedReplies;
    queued = null;
    queuedReplies = null;
    // The deadline of every command of this write; a reply not in by then fails as a timeout.
    long deadline = vertx.setTimer(timeoutMs, id -> {
      TimeoutException late = new TimeoutException("Redis did not answer within " + timeoutMs + " ms");
      onResult(late);
      replies.forEach(reply -> reply.tryFail(late));
    });
    if (cluster) {
      // The cluster client refuses a batch whose keys span slots: each command goes alone, still
      // pipelined on its node's connection, and fails alone.
      int[] pending = {requests.size()};
      connection().onComplete(ar -> {
        for (int i = 0; i < requests.size(); i++) {
          Promise<Response> reply = replies.get(i);
          if (ar.failed()) {
            if (reply.tryFail(ar.cause())) {
              onResult(ar.cause());
            }
            answered(pending, deadline);
          } else {
            ar.result().send(requests.get(i)).onComplete(r -> {
              if (r.succeeded() ? reply.tryComplete(r.result()) : reply.tryFail(r.cause())) {
                onResult(r.failed() ? r.cause() : null);
              }
              answered(pending, deadline);
            });
          }
        }
      });
      return;
    }
    Future<List<Response>> sent = requests.size() == 1
        ? connection().compose(c -> c.send(requests.get(0))).map(r -> Collections.singletonList(r))
        : connection().compose(c -> c.batch(requests));
    sent.onComplete(ar -> {
      // When the deadline fired first, the replies have failed and Redis was judged then.
      if (!vertx.cancelTimer(deadline)) {
        return;
      }
      onResult(ar.failed() ? ar.cause() : null);
      for (int i = 0; i < replies.size(); i++) {
        if (ar.succeeded()) {
          replies.get(i).tryComplete(ar.result().get(i));
        } else {
          replies.get(i).tryFail(ar.cause());
        }
      }
    });
  }

  private void answered(int[] pending, long deadline) {
    if (--pending[0] == 0) {
      vertx.cancelTimer(deadline);
    }
  }

  public Future<List<Response>> batch(List<Request> requests) {
    return connection()
        .compose(c -> c.batch(requests))
        .timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .andThen(ar -> onResult(ar.failed() ? ar.cause() : null));
  }

  static List<String> clusterEndpoints(String url) {
    List<String> endpoints = new ArrayList<>();
    for (String node : url.substring(CLUSTER_SCHEME.length()).split(",")) {
      if (!node.isBlank()) {
        endpoints.add("redis://" + node.trim());
      }
    }
    return endpoints;
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
    Future<RedisConnection> attempt = client.connect().compose(c -> {
      c.exceptionHandler(e -> reset(c, e));
      c.endHandler(v -> reset(c, null));
      // On a cluster commands are never batched (no NOSCRIPT can fail a neighbour), and a keyless
      // SCRIPT LOAD would reach one node only: scripts load on first use there.
      List<Request> scripts = RedisScript.loadAll();
      Future<RedisConnection> loaded = cluster || scripts.isEmpty() ? Future.succeededFuture(c)
          : c.batch(scripts).map(ok -> c).onFailure(e -> c.close());
      return loaded.compose(ok -> c.send(Request.cmd(Command.INFO).arg("server"))
          .map(info -> {
            serverMajorVersion = majorVersion(info);
            return c;
          })
          // A server that hides INFO is taken for the oldest we support: everything works, a bit slower.
          .otherwise(c));
    });
    connection = attempt;
    return attempt;
  }

  /**
   * Whether the server of the current connection is Redis 7.0 or newer (learnt on each connect; false
   * before the first connection): commands that need 7.0, like {@code SET … NX GET}, are used only then,
   * and a script does the same on 6.2 (the embedded Redis).
   */
  public boolean atLeastRedis7() {
    return serverMajorVersion >= 7;
  }

  static int majorVersion(Response info) {
    if (info == null) {
      return 0;
    }
    Matcher m = REDIS_VERSION.matcher(info.toString());
    return m.find() ? Integer.parseInt(m.group(1)) : 0;
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
    // An error reply (NOSCRIPT before a script's first run on a node, MOVED during a failover) is
    // Redis answering: only a missing answer makes it unavailable.
    if (failure == null || failure instanceof ErrorType) {
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
