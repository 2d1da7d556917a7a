package io.postback.gateway.delivery;

import io.postback.gateway.batch.MicroBatcher;
import io.postback.gateway.config.GatewayConfig.DeliverySettings;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.text.StorableText;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Claims due deliveries, sends them and records what happened. A claim is two steps: the Lua script
 * moves due ids from the Redis schedule to the leased set (only one claimer gets an id), then one
 * UPDATE leases in Postgres those still pending, due and unleased (Postgres has the last word, also
 * when Redis lost or duplicated something). A finished attempt is
 * recorded in Postgres first (guarded by the attempt number), then the lease is dropped or turned
 * into the next scheduled attempt in Redis. Finished attempts are recorded in micro-batches
 * ({@link MicroBatcher}, one batch at a time); what a receiver answered (its body, the error text) is
 * cleaned to storable text first, so a hostile receiver cannot fail the batch that records its
 * neighbours' attempts, and a row Postgres still refuses fails alone.
 *
 * <p>One worker per delivery verticle; everything runs on that verticle's event loop.
 */
public final class DeliveryWorker {
  private static final Logger LOG = LoggerFactory.getLogger(DeliveryWorker.class);
  private static final int MAX_CLAIM = 500;
  private static final int MAX_RECORD_BATCH = 1000;
  private static final long DEFER_MS = 1_000;
  /** What is kept of a receiver's answer: the first characters of its body, and of the error text. */
  static final int MAX_RESPONSE_CHARS = 1024;
  static final int MAX_ERROR_CHARS = 500;

  private final Context context;
  private final DeliveryStore store;
  private final DeliveryQueue queue;
  private final WebhookSender sender;
  private final RetrySchedule schedule;
  private final DeliverySettings settings;
  private final GatewayMetrics metrics;

  private final Map<String, Integer> sending = new HashMap<>();
  private final Map<String, ArrayDeque<DeliveryStore.Claimed>> waiting = new HashMap<>();
  private final Set<String> held = new HashSet<>();
  private final MicroBatcher<Finished> recorder;
  private Throwable lastRecordFailure;
  private boolean claiming;
  private boolean stopping;
  // Set once a stop has handed the held deliveries back: sends still running are aborted by our own
  // shutdown, so their outcome is no attempt of the endpoint's and is not recorded (the delivery is
  // sent again after the restart: at least once).
  private boolean handedBack;
  private Promise<Void> drained;

  /** An attempt ready to be recorded, and where its id goes in Redis afterwards (-1: dropped). */
  private record Finished(DeliveryStore.Attempt attempt, long nextAtMillis, boolean gone, boolean failed) {
  }

  public DeliveryWorker(Context context, DeliveryStore store, DeliveryQueue queue, WebhookSender sender,
                        RetrySchedule schedule, DeliverySettings settings, GatewayMetrics metrics) {
    this.context = context;
    this.store = store;
    this.queue = queue;
    this.sender = sender;
    this.schedule = schedule;
    this.settings = settings;
    this.metrics = metrics;
    // One batch at a time; the queue is bounded by the deliveries this worker holds (maxInFlight).
    this.recorder = new MicroBatcher<>(context, "delivery attempts", MAX_RECORD_BATCH, 1, Integer.MAX_VALUE,
        new MicroBatcher.Writer<>() {
          @Override
          public Future<?> write(List<Finished> batch) {
            return record(batch);
          }

          @Override
          public void fail(Finished item, Throwable error) {
            notRecorded(item, error);
          }

          @Override
          public ApiError diagnose(Finished item) {
            return DeliveryWorker.diagnose(item.attempt());
          }
        });
  }

  /** Claims due deliveries if there is room; called by the poll timer and whenever work may be waiting. */
  public void poll() {
    int room = settings.maxInFlight() - held.size();
    if (claiming || stopping || room <= 0 || (room < settings.maxInFlight() / 8 && !held.isEmpty())) {
      return;
    }
    claiming = true;
    long now = System.currentTimeMillis();
    long leaseUntil = now + settings.lease().toMillis();
    int limit = Math.min(room, MAX_CLAIM);
    queue.claim(now, leaseUntil, limit)
        .compose(ids -> ids.isEmpty() ? Future.succeededFuture(0) : take(ids, leaseUntil))
        .onComplete(ar -> {
          claiming = false;
          if (ar.failed()) {
            LOG.warn("claiming deliveries failed: {}", ar.cause().toString());
          } else if (ar.result() > 0) {
            context.runOnContext(v -> poll());
          }
        });
  }

  private Future<Integer> take(List<String> ids, long leaseUntil) {
    held.addAll(ids);
    return store.claim(ids, Instant.ofEpochMilli(leaseUntil), Instant.now().plusMillis(200))
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
          for (DeliveryStore.Claimed d : claimed) {
            dispatch(d);
          }
          // Ids Postgres did not hand out: finished already, unknown, or due later (a stale score).
          Future<Void> fix = missing.isEmpty() ? Future.succeededFuture()
              : store.states(missing).compose(states -> {
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
          return fix.map(claimed.size() + missing.size());
        }, e -> {
          // Postgres is unreachable: leave the ids leased; the lease hands them back to the schedule.
          ids.forEach(held::remove);
          return Future.failedFuture(e);
        });
  }

  private void dispatch(DeliveryStore.Claimed d) {
    if (stopping) {
      // Claimed while the stop began: hand it straight back.
      defer(List.of(d), 0);
      return;
    }
    if (!d.enabled()) {
      complete(d, new WebhookSender.Result("failure", null, null, "endpoint disabled", null, 0), false);
      return;
    }
    int cap = d.maxInFlight() != null ? d.maxInFlight() : settings.endpointMaxInFlight();
    int busy = sending.getOrDefault(d.endpointId(), 0);
    if (busy < cap) {
      send(d);
      return;
    }
    ArrayDeque<DeliveryStore.Claimed> line = waiting.computeIfAbsent(d.endpointId(), k -> new ArrayDeque<>());
    if (line.size() < maxWaiting(cap, d)) {
      line.add(d);
    } else {
      // This endpoint is saturated: hand the delivery back for a moment instead of letting it take a
      // slot that other endpoints' deliveries could use.
      defer(List.of(d), DEFER_MS);
    }
  }

  /**
   * How many claimed deliveries may wait locally for a busy endpoint: at most half of this worker's
   * room (the rest stays for other endpoints), and few enough that even if every send ahead of them
   * takes the full timeout, the last one starts well inside its lease.
   */
  private int maxWaiting(int cap, DeliveryStore.Claimed d) {
    long timeout = d.timeoutMs() != null ? d.timeoutMs() : settings.timeout().toMillis();
    long rounds = Math.max(0, settings.lease().toMillis() / timeout - 2);
    return (int) Math.min(settings.maxInFlight() / 2, cap * rounds);
  }

  private void send(DeliveryStore.Claimed d) {
    sending.merge(d.endpointId(), 1, Integer::sum);
    long timeout = d.timeoutMs() != null ? d.timeoutMs() : settings.timeout().toMillis();
    Instant attemptedAt = Instant.now();
    sender.send(d, timeout).onComplete(ar -> {
      sending.merge(d.endpointId(), -1, Integer::sum);
      WebhookSender.Result r = ar.succeeded() ? ar.result()
          : new WebhookSender.Result("failure", null, null, String.valueOf(ar.cause()), null, 0);
      metrics.deliveryAttempt(r.outcome(), r.nanos());
      complete(d, r, true, attemptedAt);
      ArrayDeque<DeliveryStore.Claimed> line = waiting.get(d.endpointId());
      if (line != null) {
        DeliveryStore.Claimed next = line.poll();
        if (line.isEmpty()) {
          waiting.remove(d.endpointId());
        }
        if (next != null && !stopping) {
          send(next);
        }
      }
    });
  }

  private void complete(DeliveryStore.Claimed d, WebhookSender.Result r, boolean attempted) {
    complete(d, r, attempted, Instant.now());
  }

  private void complete(DeliveryStore.Claimed d, WebhookSender.Result r, boolean attempted, Instant attemptedAt) {
    if (handedBack) {
      return;
    }
    boolean ok = "success".equals(r.outcome());
    String status;
    Instant next = null;
    if (ok) {
      status = "succeeded";
    } else if (r.gone() || !d.enabled()) {
      status = "dead";
    } else {
      Duration delay = schedule.nextDelay(d.attemptInSchedule(),
          RetrySchedule.parseRetryAfter(r.retryAfter(), attemptedAt));
      if (delay == null) {
        status = "dead";
      } else {
        status = "pending";
        next = Instant.now().plus(delay);
      }
    }
    // The receiver's answer is stored as safe text: NUL and invalid UTF-8 replaced, size capped.
    DeliveryStore.Attempt attempt = new DeliveryStore.Attempt(d.id(), d.endpointId(), d.attempt(), status, attemptedAt,
        next, r.statusCode(), (int) (r.nanos() / 1_000_000), r.outcome(), StorableText.clean(r.error(), MAX_ERROR_CHARS),
        StorableText.clean(r.responseBody(), MAX_RESPONSE_CHARS));
    recorder.add(new Finished(attempt, next == null ? -1 : next.toEpochMilli(), r.gone(), attempted && !ok));
  }

  /**
   * Records a batch of finished attempts (one statement, the future fails only when it did), then moves
   * their ids in Redis and updates endpoint states; the deliveries are released when all is done.
   */
  private Future<Void> record(List<Finished> batch) {
    List<DeliveryStore.Attempt> attempts = new ArrayList<>(batch.size());
    batch.forEach(f -> attempts.add(f.attempt()));
    return store.record(attempts)
        .compose(recorded -> {
          Set<String> ok = new HashSet<>(recorded);
          List<DeliveryQueue.Entry> entries = new ArrayList<>(batch.size());
          for (Finished f : batch) {
            // An attempt the guard refused was recorded by another claimer: only our lease goes.
            entries.add(new DeliveryQueue.Entry(f.attempt().deliveryId(),
                ok.contains(f.attempt().deliveryId()) ? f.nextAtMillis() : -1));
          }
          return queue.finish(entries).recover(e -> {
            // The attempt is recorded; Postgres (next_attempt_at) drives the reconciler if Redis missed this.
            LOG.warn("finishing leases in Redis failed: {}", e.toString());
            return Future.succeededFuture();
          }).compose(v -> endpointStates(batch, ok)).recover(e -> {
            LOG.warn("updating endpoint states after recording attempts failed: {}", e.toString());
            return Future.succeededFuture();
          }).onComplete(v -> {
            batch.forEach(f -> held.remove(f.attempt().deliveryId()));
            released();
          });
        });
  }

  /**
   * An attempt that could not be recorded: the delivery stays leased in Redis and in Postgres until the
   * lease expires, then it is attempted again (at least once).
   */
  private void notRecorded(Finished f, Throwable error) {
    // The items of one failed batch share the failure: one line per failure, not per item.
    if (error != lastRecordFailure) {
      lastRecordFailure = error;
      LOG.warn("recording delivery attempt(s) failed, retried after their lease: {}", error.toString());
    }
    held.remove(f.attempt().deliveryId());
    released();
  }

  private void released() {
    if (stopping && held.isEmpty() && drained != null) {
      drained.tryComplete();
    }
    poll();
  }

  /** The receiver-provided value of an attempt that Postgres cannot store; null when all look storable. */
  static ApiError diagnose(DeliveryStore.Attempt a) {
    String[][] texts = {{"responseBody", a.responseBody()}, {"error", a.error()}};
    for (String[] field : texts) {
      String problem = StorableText.problem(field[1]);
      if (problem != null) {
        return ApiError.invalidField(field[0], field[0] + " " + problem);
      }
    }
    return null;
  }

  private Future<Void> endpointStates(List<Finished> batch, Set<String> recorded) {
    Set<String> succeeded = new HashSet<>();
    Set<String> failed = new HashSet<>();
    Set<String> gone = new HashSet<>();
    for (Finished f : batch) {
      if (!recorded.contains(f.attempt().deliveryId())) {
        continue;
      }
      if ("success".equals(f.attempt().outcome())) {
        succeeded.add(f.attempt().endpointId());
      } else if (f.gone()) {
        gone.add(f.attempt().endpointId());
      } else if (f.failed()) {
        failed.add(f.attempt().endpointId());
      }
    }
    failed.removeAll(succeeded);
    Future<Void> ok = succeeded.isEmpty() ? Future.succeededFuture() : store.endpointsSucceeded(List.copyOf(succeeded));
    Future<Void> bad = failed.isEmpty() ? Future.succeededFuture()
        : store.endpointsFailed(List.copyOf(failed), settings.disableAfter().toSeconds())
            .compose(tooLong -> disableAll(tooLong, "failing continuously for " + settings.disableAfter()));
    Future<Void> gones = disableAll(List.copyOf(gone), "the endpoint answered 410 Gone");
    return Future.join(ok, bad, gones).mapEmpty();
  }

  private Future<Void> disableAll(List<String> endpointIds, String reason) {
    List<Future<Boolean>> all = new ArrayList<>();
    for (String id : endpointIds) {
      all.add(store.disable(id, reason).andThen(ar -> {
        if (ar.succeeded() && ar.result()) {
          metrics.endpointDisabled();
          LOG.warn("webhook endpoint {} disabled: {}", id, reason);
        }
      }));
    }
    return Future.join(all).mapEmpty();
  }

  private void defer(List<DeliveryStore.Claimed> deliveries, long delayMs) {
    List<String> ids = new ArrayList<>(deliveries.size());
    deliveries.forEach(d -> ids.add(d.id()));
    Instant at = Instant.now().plusMillis(delayMs);
    List<DeliveryQueue.Entry> entries = new ArrayList<>(ids.size());
    ids.forEach(id -> entries.add(new DeliveryQueue.Entry(id, at.toEpochMilli())));
    store.release(ids, at).compose(v -> queue.finish(entries)).onComplete(ar -> {
      if (ar.failed()) {
        LOG.warn("handing back {} deliveries failed (their lease will): {}", ids.size(), ar.cause().toString());
      }
      ids.forEach(held::remove);
      if (stopping && held.isEmpty() && drained != null) {
        drained.tryComplete();
      }
    });
  }

  /**
   * Graceful stop: claim nothing more, hand back what waits locally, give in-flight sends up to
   * {@code grace} to finish and be recorded, then hand back whatever is still held.
   */
  public Future<Void> stop(Duration grace) {
    stopping = true;
    drained = Promise.promise();
    List<DeliveryStore.Claimed> unsent = new ArrayList<>();
    waiting.values().forEach(unsent::addAll);
    waiting.clear();
    if (!unsent.isEmpty()) {
      defer(unsent, 0);
    }
    if (held.isEmpty()) {
      drained.tryComplete();
    }
    Promise<Void> done = Promise.promise();
    long timer = context.owner().setTimer(Math.max(1, grace.toMillis()), t -> done.tryComplete());
    drained.future().onComplete(ar -> {
      context.owner().cancelTimer(timer);
      done.tryComplete();
    });
    return done.future().compose(v -> {
      handedBack = true;
      if (held.isEmpty()) {
        return Future.succeededFuture();
      }
      List<String> ids = List.copyOf(held);
      LOG.info("handing back {} delivery(ies) still in flight at stop", ids.size());
      Instant now = Instant.now();
      List<DeliveryQueue.Entry> entries = new ArrayList<>(ids.size());
      ids.forEach(id -> entries.add(new DeliveryQueue.Entry(id, now.toEpochMilli())));
      return store.release(ids, now).compose(x -> queue.finish(entries)).recover(e -> Future.succeededFuture());
    });
  }
}
