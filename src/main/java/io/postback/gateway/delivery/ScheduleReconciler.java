package io.postback.gateway.delivery;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * Rebuilds the Redis schedule from Postgres: walks the due pending deliveries page by page (keyset on
 * next_attempt_at, id) and re-adds those that are neither scheduled nor leased. This is what makes a
 * Redis restart without persistence, a FLUSHALL, or a ZADD lost in a crash cost nothing but time.
 *
 * <p>Orphaned leases too: a claim is two steps, the Redis script then the Postgres UPDATE a few
 * milliseconds later. A claim whose script timed out on our side (Redis frozen) may still run when Redis
 * resumes, moving ids into the leased set that nobody sends and Postgres never leased. Postgres has the
 * last word: an id that Postgres has due and unleased, and whose Redis lease was taken more than
 * {@link #ORPHAN_GRACE_MS} before Postgres was read, would show its Postgres lease by then had its claim
 * got that far, so it is an orphan and goes back on the schedule at once instead of waiting out the
 * lease (minutes). Should a slow claim still lease it in Postgres afterwards, the Postgres guard of the
 * claim keeps the two claimers from both sending it.
 */
public final class ScheduleReconciler {
  private static final Logger LOG = LoggerFactory.getLogger(ScheduleReconciler.class);
  private static final int PAGE = 2_000;
  private static final OffsetDateTime START = OffsetDateTime.of(1970, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);
  /** How long after its Redis half a claim surely has its Postgres half (milliseconds, normally). */
  static final long ORPHAN_GRACE_MS = 5_000;

  private final DeliveryStore store;
  private final DeliveryQueue queue;
  private final long leaseMs;
  private final Runnable onRestored;
  private OffsetDateTime afterAt = START;
  private String afterId = "";
  private boolean running;

  /** {@code lease}: the lease every claimer takes (a lease's Redis score is its claim time plus this). */
  public ScheduleReconciler(DeliveryStore store, DeliveryQueue queue, Duration lease, Runnable onRestored) {
    this.store = store;
    this.queue = queue;
    this.leaseMs = lease.toMillis();
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
    // Leases taken before this, minus the grace, would show in what Postgres answers next.
    long orphanedBefore = System.currentTimeMillis() - ORPHAN_GRACE_MS + leaseMs;
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
      return queue.restore(entries, orphanedBefore).map(added -> {
        if (added > 0) {
          LOG.info("re-added {} due deliveries missing from the Redis schedule or orphaned in its leased set", added);
          onRestored.run();
        }
        return null;
      });
    });
  }
}
