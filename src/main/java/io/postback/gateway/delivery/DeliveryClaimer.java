package io.postback.gateway.delivery;

import io.vertx.core.Future;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Where a delivery is claimed. A claim is two steps: a Lua script moves due ids from the Redis schedule
 * to the leased set (only one claimer gets an id), then one UPDATE leases in Postgres those still
 * pending, due and unleased. Postgres has the last word, also when Redis lost or duplicated something:
 * ids it does not hand out (finished already, unknown, or due later under a stale score) are put right
 * in Redis at once.
 */
final class DeliveryClaimer {
  /** At most this many ids per claim: one Lua script and one UPDATE stay short. */
  static final int MAX_CLAIM = 500;
  /** Postgres leases an id only if it is due by then: a little slack for clocks and the Redis round trip. */
  private static final long DUE_SLACK_MS = 200;

  private final DeliveryStore store;
  private final DeliveryQueue queue;

  DeliveryClaimer(DeliveryStore store, DeliveryQueue queue) {
    this.store = store;
    this.queue = queue;
  }

  /**
   * Claims up to {@code limit} due deliveries, leased until {@code leaseUntil}, and hands each one both
   * leased to {@code dispatch}. Every id Redis hands over is in {@code held} from then on (a stop waits
   * for it) and leaves it here unless Postgres leased it too. The future holds how many ids the claim
   * took from Redis: when that is more than 0, more may be due.
   */
  Future<Integer> claim(long now, long leaseUntil, int limit, Set<String> held,
                        Consumer<DeliveryStore.Claimed> dispatch) {
    return queue.claim(now, leaseUntil, Math.min(limit, MAX_CLAIM))
        .compose(ids -> ids.isEmpty() ? Future.succeededFuture(0) : lease(ids, leaseUntil, held, dispatch));
  }

  private Future<Integer> lease(List<String> ids, long leaseUntil, Set<String> held,
                                Consumer<DeliveryStore.Claimed> dispatch) {
    held.addAll(ids);
    return store.claim(ids, Instant.ofEpochMilli(leaseUntil), Instant.now().plusMillis(DUE_SLACK_MS))
        .compose(claimed -> {
          Set<String> taken = new HashSet<>();
          for (DeliveryStore.Claimed d : claimed) {
            taken.add(d.id());
          }
          List<String> missing = new ArrayList<>();
          for (String id : ids) {
            if (!taken.contains(id)) {
              missing.add(id);
              held.remove(id);
            }
          }
          claimed.forEach(dispatch);
          Future<Void> fix = missing.isEmpty() ? Future.succeededFuture() : putRight(missing);
          return fix.map(ids.size());
        }, e -> {
          // Postgres is unreachable: leave the ids leased; the lease hands them back to the schedule.
          ids.forEach(held::remove);
          return Future.failedFuture(e);
        });
  }

  /** Ids Postgres did not hand out: scheduled again at their time in Postgres, or dropped when finished or unknown. */
  private Future<Void> putRight(List<String> missing) {
    return store.states(missing).compose(states -> {
      Set<String> known = new HashSet<>();
      List<DeliveryQueue.Entry> entries = new ArrayList<>(missing.size());
      for (DeliveryQueue.Entry e : states) {
        known.add(e.deliveryId());
        entries.add(e);
      }
      for (String id : missing) {
        if (!known.contains(id)) {
          entries.add(new DeliveryQueue.Entry(id, -1));
        }
      }
      return queue.finish(entries);
    });
  }
}
