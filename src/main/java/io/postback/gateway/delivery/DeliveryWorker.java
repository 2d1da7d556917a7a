package io.postback.gateway.delivery;

import io.postback.gateway.config.GatewayConfig.DeliverySettings;
import io.postback.gateway.metrics.GatewayMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The delivery loop: claims due deliveries while it has room ({@link DeliveryClaimer}), sends each one
 * when its endpoint has a free slot ({@link EndpointLanes}), asks {@link RetrySchedule} what follows the
 * attempt and has it recorded ({@link AttemptRecorder}). It holds every delivery from claim to record,
 * and on stop hands back what it still holds.
 *
 * <p>One worker per delivery verticle; everything runs on that verticle's event loop.
 */
public final class DeliveryWorker {
  private static final Logger LOG = LoggerFactory.getLogger(DeliveryWorker.class);
  private static final long DEFER_MS = 1_000;

  private final Context context;
  private final DeliveryStore store;
  private final DeliveryQueue queue;
  private final WebhookSender sender;
  private final RetrySchedule schedule;
  private final DeliverySettings settings;
  private final GatewayMetrics metrics;
  private final DeliveryClaimer claimer;
  private final EndpointLanes lanes;
  private final AttemptRecorder recorder;

  /** Every delivery claimed and not yet recorded or handed back. */
  private final Set<String> held = new HashSet<>();
  private boolean claiming;
  private boolean stopping;
  // Set once a stop has handed the held deliveries back: sends still running are aborted by our own
  // shutdown, so their outcome is no attempt of the endpoint's and is not recorded (the delivery is
  // sent again after the restart: at least once).
  private boolean handedBack;
  private Promise<Void> drained;

  public DeliveryWorker(Context context, DeliveryStore store, DeliveryQueue queue, WebhookSender sender,
                        RetrySchedule schedule, DeliverySettings settings, GatewayMetrics metrics) {
    this.context = context;
    this.store = store;
    this.queue = queue;
    this.sender = sender;
    this.schedule = schedule;
    this.settings = settings;
    this.metrics = metrics;
    this.claimer = new DeliveryClaimer(store, queue);
    this.lanes = new EndpointLanes(settings);
    EndpointHealth health = new EndpointHealth(store, settings, metrics);
    this.recorder = new AttemptRecorder(context, store, queue, health, metrics, ids -> {
      ids.forEach(held::remove);
      released();
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
    claimer.claim(now, now + settings.lease().toMillis(), room, held, this::dispatch)
        .onComplete(ar -> {
          claiming = false;
          if (ar.failed()) {
            LOG.warn("claiming deliveries failed: {}", ar.cause().toString());
          } else if (ar.result() > 0) {
            context.runOnContext(v -> poll());
          }
        });
  }

  private void dispatch(DeliveryStore.Claimed d) {
    if (stopping) {
      // Claimed while the stop began: hand it straight back.
      defer(List.of(d), 0);
      return;
    }
    if (!d.enabled()) {
      complete(d, WebhookSender.Result.failure("endpoint disabled"), false, Instant.now());
      return;
    }
    switch (lanes.admit(d)) {
      case SEND -> send(d);
      case WAIT -> { }
      // This endpoint is saturated: hand the delivery back for a moment instead of letting it take a
      // slot that other endpoints' deliveries could use.
      case DEFER -> defer(List.of(d), DEFER_MS);
    }
  }

  /** Sends {@code d} in the endpoint slot it was given, then the next delivery waiting for that endpoint. */
  private void send(DeliveryStore.Claimed d) {
    long timeout = d.timeoutMs() != null ? d.timeoutMs() : settings.timeout().toMillis();
    Instant attemptedAt = Instant.now();
    sender.send(d, timeout).onComplete(ar -> {
      WebhookSender.Result r = ar.succeeded() ? ar.result() : WebhookSender.Result.failure(String.valueOf(ar.cause()));
      metrics.deliveryAttempt(d.kind().wire(), r.outcome().wire(), r.nanos());
      complete(d, r, true, attemptedAt);
      DeliveryStore.Claimed next = lanes.finished(d.endpointId(), !stopping);
      if (next != null) {
        send(next);
      }
    });
  }

  private void complete(DeliveryStore.Claimed d, WebhookSender.Result r, boolean attempted, Instant attemptedAt) {
    if (handedBack) {
      return;
    }
    RetrySchedule.Verdict verdict = schedule.verdict(d.attemptInSchedule(), d.enabled(), r, attemptedAt, Instant.now());
    recorder.add(d, r, verdict, attempted, attemptedAt);
  }

  private void released() {
    if (stopping && held.isEmpty() && drained != null) {
      drained.tryComplete();
    }
    poll();
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
    List<DeliveryStore.Claimed> unsent = lanes.drain();
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
