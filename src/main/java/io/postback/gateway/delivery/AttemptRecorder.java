package io.postback.gateway.delivery;

import io.postback.gateway.batch.MicroBatcher;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.text.StorableText;
import io.vertx.core.Context;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Records finished attempts: in Postgres first (guarded by the attempt number: an attempt another
 * claimer recorded is not recorded twice), then the Redis lease is dropped or turned into the next
 * scheduled attempt, then endpoint health is updated. Attempts are recorded in micro-batches
 * ({@link MicroBatcher}, one batch at a time). What a receiver answered (its body, the error text) is
 * cleaned to storable text first, so a hostile receiver cannot fail the batch that records its
 * neighbours' attempts, and a row Postgres still refuses fails alone.
 */
final class AttemptRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(AttemptRecorder.class);
  private static final int MAX_RECORD_BATCH = 1000;
  /** What is kept of a receiver's answer: the first characters of its body, and of the error text. */
  static final int MAX_RESPONSE_CHARS = 1024;
  static final int MAX_ERROR_CHARS = 500;

  private final DeliveryStore store;
  private final DeliveryQueue queue;
  private final EndpointHealth health;
  private final Consumer<List<String>> released;
  private final MicroBatcher<Finished> batcher;
  private Throwable lastFailure;

  /** An attempt ready to be recorded, and where its id goes in Redis afterwards (-1: dropped). */
  private record Finished(DeliveryStore.Attempt attempt, long nextAtMillis, boolean gone, boolean failed) {
  }

  /** {@code released} is told the delivery ids whose attempts are recorded, or could not be. */
  AttemptRecorder(Context context, DeliveryStore store, DeliveryQueue queue, EndpointHealth health,
                  GatewayMetrics metrics, Consumer<List<String>> released) {
    this.store = store;
    this.queue = queue;
    this.health = health;
    this.released = released;
    // One batch at a time; the queue is bounded by the deliveries the worker holds (maxInFlight). Not
    // regrouped: attempts are not clients waiting to come back, and holding the recorder's place holds the
    // deliveries it has yet to record (150,000 deliveries: 9,571/s regrouped against 10,868/s, same hour).
    this.batcher = new MicroBatcher<>(context, "delivery attempts", MAX_RECORD_BATCH, 1, Integer.MAX_VALUE, Duration.ZERO,
        metrics.writeBatchRows("delivery_attempts"), new MicroBatcher.Writer<>() {
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
            return AttemptRecorder.diagnose(item.attempt());
          }
        });
  }

  /**
   * Queues the record of an attempt of {@code d} that ended with {@code r} and the verdict {@code v};
   * {@code attempted} is false when nothing was sent (the endpoint was disabled meanwhile).
   */
  void add(DeliveryStore.Claimed d, WebhookSender.Result r, RetrySchedule.Verdict v, boolean attempted,
           Instant attemptedAt) {
    // The receiver's answer is stored as safe text: NUL and invalid UTF-8 replaced, size capped.
    DeliveryStore.Attempt attempt = new DeliveryStore.Attempt(d.id(), d.endpointId(), d.attempt(), v.state(),
        attemptedAt, v.nextAttemptAt(), r.statusCode(), (int) (r.nanos() / 1_000_000), r.outcome().wire(),
        StorableText.clean(r.error(), MAX_ERROR_CHARS), StorableText.clean(r.responseBody(), MAX_RESPONSE_CHARS));
    boolean ok = r.outcome() == WebhookSender.Outcome.SUCCESS;
    batcher.add(new Finished(attempt, v.nextAttemptAt() == null ? -1 : v.nextAttemptAt().toEpochMilli(), r.gone(),
        attempted && !ok));
  }

  /**
   * Records a batch of finished attempts (one statement, the future fails only when it did), then moves
   * their ids in Redis and updates endpoint health; the deliveries are released when all is done.
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
          }).compose(v -> updateHealth(batch, ok)).recover(e -> {
            LOG.warn("updating endpoint states after recording attempts failed: {}", e.toString());
            return Future.succeededFuture();
          }).onComplete(v -> released.accept(batch.stream().map(f -> f.attempt().deliveryId()).toList()));
        });
  }

  private Future<Void> updateHealth(List<Finished> batch, Set<String> recorded) {
    Set<String> succeeded = new HashSet<>();
    Set<String> failed = new HashSet<>();
    Set<String> gone = new HashSet<>();
    for (Finished f : batch) {
      if (!recorded.contains(f.attempt().deliveryId())) {
        continue;
      }
      if (WebhookSender.Outcome.SUCCESS.wire().equals(f.attempt().outcome())) {
        succeeded.add(f.attempt().endpointId());
      } else if (f.gone()) {
        gone.add(f.attempt().endpointId());
      } else if (f.failed()) {
        failed.add(f.attempt().endpointId());
      }
    }
    return health.update(succeeded, failed, gone);
  }

  /**
   * An attempt that could not be recorded: the delivery stays leased in Redis and in Postgres until the
   * lease expires, then it is attempted again (at least once).
   */
  private void notRecorded(Finished f, Throwable error) {
    // The items of one failed batch share the failure: one line per failure, not per item.
    if (error != lastFailure) {
      lastFailure = error;
      LOG.warn("recording delivery attempt(s) failed, retried after their lease: {}", error.toString());
    }
    released.accept(List.of(f.attempt().deliveryId()));
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
}
