package io.postback.gateway.delivery;

import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns outbox events into deliveries: any event type, one delivery per subscribed enabled endpoint
 * (see {@link DeliveryStore#fanOut}), then puts the new deliveries on the Redis schedule. If this
 * instance dies between the commit and the ZADD, the {@link ScheduleReconciler} adds them from Postgres.
 */
public final class OutboxRelay {
  private static final Logger LOG = LoggerFactory.getLogger(OutboxRelay.class);
  private static final int BATCH = 1000;

  private final DeliveryStore store;
  private final DeliveryQueue queue;
  private final Runnable onScheduled;
  private boolean running;

  public OutboxRelay(DeliveryStore store, DeliveryQueue queue, Runnable onScheduled) {
    this.store = store;
    this.queue = queue;
    this.onScheduled = onScheduled;
  }

  /** Fans out until the outbox is drained (or fails); called periodically. */
  public void run() {
    if (running) {
      return;
    }
    running = true;
    round().onComplete(ar -> {
      running = false;
      if (ar.failed()) {
        LOG.warn("outbox relay failed: {}", ar.cause().toString());
      }
    });
  }

  private Future<Void> round() {
    return store.fanOut(BATCH).compose(fanOut -> queue.schedule(fanOut.created())
        .recover(e -> {
          LOG.warn("scheduling {} new deliveries in Redis failed; the reconciler will: {}", fanOut.created().size(),
              e.toString());
          return Future.succeededFuture();
        })
        .compose(v -> {
          if (!fanOut.created().isEmpty()) {
            onScheduled.run();
          }
          return fanOut.events() == BATCH ? round() : Future.succeededFuture();
        }));
  }
}
