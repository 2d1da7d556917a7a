package io.postback.gateway.delivery;

import io.postback.gateway.config.Backends;
import io.postback.gateway.config.GatewayConfig.DeliverySettings;
import io.postback.gateway.config.GatewayConfig;
import io.postback.gateway.config.PostgresUrl;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.redis.RedisChannel;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The delivery side, separate from the HTTP verticles: its own Postgres pool, Redis connection and
 * HTTP client. It relays the outbox into deliveries and claims and sends due deliveries (the schedule
 * reconciler and queue-depth gauges are periodic work of MaintenanceVerticle). Any number of these, in
 * any number of gateways, share one queue.
 */
public final class DeliveryVerticle extends VerticleBase {
  private static final AtomicInteger INSTANCES = new AtomicInteger();
  private final GatewayConfig config;
  private final Backends backends;
  private final GatewayMetrics metrics;
  private Pool pool;
  private RedisChannel redis;
  private WebhookSender sender;
  private DeliveryWorker worker;
  private final List<Long> timers = new ArrayList<>();

  public DeliveryVerticle(GatewayConfig config, Backends backends, GatewayMetrics metrics) {
    this.config = config;
    this.backends = backends;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    DeliverySettings settings = config.delivery();
    pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(Math.max(4, config.pgPoolSize())).setName("postgres-delivery-" + INSTANCES.getAndIncrement())
            .setMaxWaitQueueSize(config.waits().pgWaitQueueLimit()))
        .connectingTo(new PostgresUrl(backends.pgUrl()).connectOptions().setPipeliningLimit(256)
            // Safe without waiting for the WAL flush: a write lost in a Postgres crash only makes a delivery
            // happen again (fan-out and its events roll back together; a lost attempt record means a resend).
            .addProperty("synchronous_commit", "off"))
        .using(vertx)
        .build();
    Duration redisTimeout = config.redisTimeout().compareTo(Duration.ofSeconds(2)) > 0 ? config.redisTimeout() : Duration.ofSeconds(2);
    redis = new RedisChannel(vertx, backends.redisUrl(), redisTimeout, metrics);
    DeliveryStore store = new DeliveryStore(pool);
    DeliveryQueue queue = new DeliveryQueue(redis, settings.queuePartitions());
    DestinationGuard guard = new DestinationGuard(vertx, config.allowPrivateDestinations());
    sender = new WebhookSender(vertx, guard, settings.endpointMaxInFlight());
    worker = new DeliveryWorker(context, store, queue, sender,
        new RetrySchedule(config.retrySchedule(), settings.retryAfterMax()), settings, metrics);
    OutboxRelay relay = new OutboxRelay(store, queue, worker::poll);
    long poll = settings.pollInterval().toMillis();
    timers.add(vertx.setPeriodic(poll, id -> {
      relay.run();
      worker.poll();
    }));
    relay.run();
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    timers.forEach(vertx::cancelTimer);
    return worker.stop(config.delivery().stopGrace())
        .eventually(() -> sender.close())
        .eventually(() -> pool.close())
        .eventually(() -> {
          redis.close();
          return Future.succeededFuture();
        });
  }
}
