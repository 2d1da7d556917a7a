package io.postback.gateway.store;

import io.vertx.core.Context;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Groups items into batches for one round trip each: the items added during one event-loop turn, and
 * those that queue up while earlier batches are in flight, are flushed together (at most
 * {@code maxBatch} per batch, at most {@code maxInFlight} batches at once). At low load a batch is one
 * item and waits for nothing; at high load batches grow by themselves. The flush function completes
 * the items' own promises; the batcher only needs to know when it is done.
 *
 * <p>Not thread-safe: one batcher per verticle, used on that verticle's event loop.
 */
public final class MicroBatcher<T> {
  private final Context context;
  private final int maxBatch;
  private final int maxInFlight;
  private final Function<List<T>, Future<?>> flush;
  private ArrayList<T> queue = new ArrayList<>();
  private int inFlight;
  private boolean drainScheduled;

  public MicroBatcher(Context context, int maxBatch, int maxInFlight, Function<List<T>, Future<?>> flush) {
    this.context = context;
    this.maxBatch = maxBatch;
    this.maxInFlight = maxInFlight;
    this.flush = flush;
  }

  public void add(T item) {
    queue.add(item);
    if (!drainScheduled) {
      // Run after the current event-loop turn, so requests read in the same turn share a batch.
      drainScheduled = true;
      context.runOnContext(v -> {
        drainScheduled = false;
        drain();
      });
    }
  }

  private void drain() {
    while (inFlight < maxInFlight && !queue.isEmpty()) {
      List<T> batch;
      if (queue.size() <= maxBatch) {
        batch = queue;
        queue = new ArrayList<>();
      } else {
        batch = new ArrayList<>(queue.subList(0, maxBatch));
        queue.subList(0, maxBatch).clear();
      }
      inFlight++;
      flush.apply(batch).onComplete(ar -> {
        inFlight--;
        drain();
      });
    }
  }
}
