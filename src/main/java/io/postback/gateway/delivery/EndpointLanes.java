package io.postback.gateway.delivery;

import io.postback.gateway.config.GatewayConfig.DeliverySettings;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-endpoint concurrency: at most the endpoint's {@code maxInFlight} sends at once (else the
 * gateway-wide {@code endpointMaxInFlight}); more wait in the endpoint's lane, as many as can still
 * start inside their lease, and past that a delivery is handed back for a moment, so that one slow
 * endpoint never holds the room other endpoints' deliveries could use.
 *
 * <p>One per delivery worker, on its event loop.
 */
final class EndpointLanes {
  private final DeliverySettings settings;
  private final Map<String, Integer> sending = new HashMap<>();
  private final Map<String, ArrayDeque<DeliveryStore.Claimed>> waiting = new HashMap<>();

  /** What to do with a claimed delivery. */
  enum Admission {
    /** Send it now: its endpoint has a free slot, now taken. */
    SEND,
    /** It waits in its endpoint's lane; {@link #finished} hands it out. */
    WAIT,
    /** The endpoint is saturated: hand it back for a moment. */
    DEFER
  }

  EndpointLanes(DeliverySettings settings) {
    this.settings = settings;
  }

  Admission admit(DeliveryStore.Claimed d) {
    int cap = d.maxInFlight() != null ? d.maxInFlight() : settings.endpointMaxInFlight();
    int busy = sending.getOrDefault(d.endpointId(), 0);
    if (busy < cap) {
      sending.merge(d.endpointId(), 1, Integer::sum);
      return Admission.SEND;
    }
    ArrayDeque<DeliveryStore.Claimed> line = waiting.computeIfAbsent(d.endpointId(), k -> new ArrayDeque<>());
    if (line.size() < maxWaiting(cap, d)) {
      line.add(d);
      return Admission.WAIT;
    }
    return Admission.DEFER;
  }

  /**
   * A send to this endpoint finished: its slot goes to the next delivery waiting in the lane, which is
   * returned to be sent (null: none waits, or {@code takeNext} is false and the slot stays free).
   */
  DeliveryStore.Claimed finished(String endpointId, boolean takeNext) {
    sending.merge(endpointId, -1, Integer::sum);
    ArrayDeque<DeliveryStore.Claimed> line = waiting.get(endpointId);
    if (line == null) {
      return null;
    }
    DeliveryStore.Claimed next = line.poll();
    if (line.isEmpty()) {
      waiting.remove(endpointId);
    }
    if (next == null || !takeNext) {
      return null;
    }
    sending.merge(endpointId, 1, Integer::sum);
    return next;
  }

  /** Empties every lane (a stop hands these back). */
  List<DeliveryStore.Claimed> drain() {
    List<DeliveryStore.Claimed> all = new ArrayList<>();
    waiting.values().forEach(all::addAll);
    waiting.clear();
    return all;
  }

  /**
   * How many claimed deliveries may wait locally for a busy endpoint: at most half of the worker's
   * room (the rest stays for other endpoints), and few enough that even if every send ahead of them
   * takes the full timeout, the last one starts well inside its lease.
   */
  private int maxWaiting(int cap, DeliveryStore.Claimed d) {
    long timeout = d.timeoutMs() != null ? d.timeoutMs() : settings.timeout().toMillis();
    long rounds = Math.max(0, settings.lease().toMillis() / timeout - 2);
    return (int) Math.min(settings.maxInFlight() / 2, cap * rounds);
  }
}
