package io.postback.gateway.delivery;

import io.postback.gateway.metrics.GatewayMetrics;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refreshes the global queue-depth gauges: pending and dead from Postgres (the truth), in_flight from
 * the Redis leased set. pending counts deliveries waiting for an attempt, so the in-flight ones are
 * taken out of Postgres' pending count.
 */
public final class QueueDepth {
  private static final Logger LOG = LoggerFactory.getLogger(QueueDepth.class);
  private final DeliveryStore store;
  private final DeliveryQueue queue;
  private final GatewayMetrics metrics;
  private boolean running;

  public QueueDepth(DeliveryStore store, DeliveryQueue queue, GatewayMetrics metrics) {
    this.store = store;
    this.queue = queue;
    this.metrics = metrics;
  }

  public void refresh() {
    if (running) {
      return;
    }
    running = true;
    Future<long[]> counts = store.counts();
    Future<Long> leased = queue.leasedCount().otherwise(0L);
    Future.all(counts, leased).onComplete(ar -> {
      running = false;
      if (ar.failed()) {
        LOG.debug("queue depth refresh failed: {}", ar.cause().toString());
        return;
      }
      long inFlight = leased.result();
      metrics.queueDepth("pending", Math.max(0, counts.result()[0] - inFlight));
      metrics.queueDepth("in_flight", inFlight);
      metrics.queueDepth("dead", counts.result()[1]);
    });
  }
}
