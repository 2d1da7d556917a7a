package io.postback.gateway;

import io.postback.gateway.config.Backends;
import io.postback.gateway.config.GatewayConfig;
import io.postback.gateway.config.GatewayConfig.DeliverySettings;
import io.postback.gateway.config.PostgresUrl;
import io.postback.gateway.console.OverviewHistory;
import io.postback.gateway.delivery.DeliveryQueue;
import io.postback.gateway.delivery.DeliveryStore;
import io.postback.gateway.delivery.QueueDepth;
import io.postback.gateway.delivery.ScheduleReconciler;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.ops.PostgresProbe;
import io.postback.gateway.program.ProgramCatalog;
import io.postback.gateway.redis.RedisChannel;
import io.postback.gateway.store.PartitionMaintenance;
import io.postback.gateway.store.RefundWriter;
import io.postback.gateway.surface.SurfaceRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The periodic work of one gateway instance, all of it here. There is no leader: with several
 * instances every one runs every timer, and each is safe to run that way.
 * <ul>
 *   <li>surface and program caches: each instance refreshes its own memory;</li>
 *   <li>refund sweep: applying a stranded refund takes the advisory lock of its conversion and changes
 *       nothing the second time, so two instances sweeping at once apply it once;</li>
 *   <li>Postgres probe: each instance reports its own view (gateway_dependency_up);</li>
 *   <li>schedule reconciler (instances that deliver): it only re-adds to the Redis schedule what
 *       Postgres has due and Redis lacks, and adding an id twice is adding it once;</li>
 *   <li>queue-depth gauges (instances that deliver): read-only counts of the one shared queue;</li>
 *   <li>the console's overview: each instance samples its own meters into its own hour;</li>
 *   <li>partition maintenance (day partitions ahead, retention behind): done by whichever instance holds
 *       its Postgres advisory lock; the others only refresh their {@code gateway_partitions_ahead} gauges.</li>
 * </ul>
 * Delivery itself (DeliveryVerticle) and report generation (ReportVerticle) are not timers here but
 * work loops of their own.
 */
public final class MaintenanceVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(MaintenanceVerticle.class);
  private static final long REFUND_SWEEP_MS = 5_000;

  private final GatewayConfig config;
  private final Backends backends;
  private final GatewayMetrics metrics;
  private final SurfaceRegistry surfaces;
  private final ProgramCatalog catalog;
  private final Pool controlPool;
  private final OverviewHistory overview;
  private final List<Long> timers = new ArrayList<>();
  private Pool pool;
  private RedisChannel redis;

  public MaintenanceVerticle(GatewayConfig config, Backends backends, GatewayMetrics metrics, SurfaceRegistry surfaces,
                             ProgramCatalog catalog, Pool controlPool, OverviewHistory overview) {
    this.config = config;
    this.backends = backends;
    this.metrics = metrics;
    this.surfaces = surfaces;
    this.catalog = catalog;
    this.controlPool = controlPool;
    this.overview = overview;
  }

  @Override
  public Future<?> start() {
    pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(2).setName("postgres-maintenance"))
        .connectingTo(new PostgresUrl(backends.pgUrl()).connectOptions())
        .using(vertx)
        .build();
    every(config.surfaceRefreshInterval(), () -> {
      surfaces.refresh();
      catalog.refresh();
    });
    RefundWriter refunds = new RefundWriter(pool);
    every(Duration.ofMillis(REFUND_SWEEP_MS), () -> refunds.sweep(surfaces)
        .onFailure(e -> LOG.warn("refund sweep failed: {}", e.toString())));
    // gateway_dependency_up{postgres} from a scrape alone, not only when /health/ready is called.
    PostgresProbe probe = new PostgresProbe(metrics);
    every(config.waits().postgresCheckInterval(), () -> probe.check(controlPool));
    every(overview.interval(), overview::sample);
    PartitionMaintenance partitions = new PartitionMaintenance(pool, config.retention(), metrics);
    Runnable partitionRun = () -> partitions.run()
        .onFailure(e -> LOG.warn("partition maintenance failed (retried in {}): {}", config.retention().interval(),
            e.toString()));
    every(config.retention().interval(), partitionRun);
    partitionRun.run();
    DeliverySettings delivery = config.delivery();
    if (delivery.instances() > 0) {
      Duration redisTimeout = config.redisTimeout().compareTo(Duration.ofSeconds(2)) > 0
          ? config.redisTimeout() : Duration.ofSeconds(2);
      redis = new RedisChannel(vertx, backends.redisUrl(), redisTimeout, metrics);
      DeliveryStore store = new DeliveryStore(pool);
      DeliveryQueue queue = new DeliveryQueue(redis, delivery.queuePartitions());
      // Restored ids are claimed by the delivery verticles' next poll (deliveryPollInterval).
      ScheduleReconciler reconciler = new ScheduleReconciler(store, queue, delivery.lease(), () -> { });
      every(delivery.reconcileInterval(), reconciler::run);
      QueueDepth depth = new QueueDepth(store, queue, metrics);
      every(delivery.queueDepthInterval(), depth::refresh);
      depth.refresh();
      // Whatever a previous run left (a crash, a flushed Redis) is due now: look at once.
      reconciler.run();
    }
    return Future.succeededFuture();
  }

  private void every(Duration interval, Runnable work) {
    timers.add(vertx.setPeriodic(interval.toMillis(), id -> work.run()));
  }

  @Override
  public Future<?> stop() {
    timers.forEach(vertx::cancelTimer);
    if (redis != null) {
      redis.close();
    }
    return pool.close();
  }
}
