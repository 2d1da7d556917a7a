package io.postback.gateway.delivery;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * Rebuilds the Redis schedule from Postgres: walks the due pending deliveries page by page (keyset on
 * next_attempt_at, id) and re-adds those that are neither scheduled nor leased. This is what makes a
 * Redis restart without persistence, a FLUSHALL, or a ZADD lost in a crash cost nothing but time.
 */
public final class ScheduleReconciler {
  private static final Logger LOG = LoggerFactory.getLogger(ScheduleReconciler.class);
  private static final int PAGE = 2_000;
  private static final OffsetDateTime START = OffsetDateTime.of(1970, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);

  private final DeliveryStore store;
  private final DeliveryQueue queue;
  private final Runnable onRestored;
  private OffsetDateTime afterAt = START;
  private String afterId = "";
  private boolean running;

  public ScheduleReconciler(DeliveryStore store, DeliveryQueue queue, Runnable onRestored) {
    this.store = store;
    this.queue = queue;
    this.onRestored = onRestored;
  }

  public void run() {
    if (running) {
      return;
    }
    running = true;
    page().onComplete(ar -> {
      running = false;
      if (ar.failed()) {
        LOG.warn("schedule reconciliation failed: {}", ar.cause().toString());
      }
    });
  }

  private Future<Void> page() {
    return store.duePage(afterAt, afterId, PAGE).compose(rows -> {
      List<DeliveryQueue.Entry> entries = new ArrayList<>(rows.size());
      for (Row r : rows) {
        afterAt = r.getOffsetDateTime("next_attempt_at");
        afterId = r.getString("id");
        entries.add(new DeliveryQueue.Entry(afterId, afterAt.toInstant().toEpochMilli()));
      }
      if (rows.size() < PAGE) {
        afterAt = START;
        afterId = "";
      }
      return queue.restore(entries).map(added -> {
        if (added > 0) {
          LOG.info("re-added {} due deliveries missing from the Redis schedule", added);
          onRestored.run();
        }
        return null;
      });
    });
  }
}
