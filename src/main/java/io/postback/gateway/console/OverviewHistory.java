package io.postback.gateway.console;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.postback.gateway.metrics.GatewayMetrics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The console's overview without Prometheus: this instance's meters sampled into a one-hour ring (one sample
 * per interval). Counters are cumulative, so rates and "last hour" totals are differences between samples;
 * the newest point is read live when asked, so a postback shows up at once. The gauges (queue depth,
 * dependencies) are what this instance last saw; queue depth is counted in Postgres, so it covers all instances.
 * Sampled from one event loop, read from every HTTP verticle: the ring is guarded by this object's lock,
 * held only to copy a few hundred small records.
 */
public final class OverviewHistory {
  public static final Duration WINDOW = Duration.ofHours(1);
  /** One point per 5 s: 720 small samples for the hour. */
  public static final Duration INTERVAL = Duration.ofSeconds(5);

  private final MeterRegistry registry;
  private final Duration interval;
  private final int capacity;
  private final ArrayDeque<Sample> ring;

  /** One reading of the meters; counters are totals since the instance started. */
  record Sample(long atMillis, double accepted, double duplicate, double rejected, double attributed,
                double recorded, double deliverySuccess, double deliveryFailure, double pending, double inFlight,
                double dead, Map<String, Double> rejectedByReason, Map<String, Boolean> dependencies) {
  }

  public OverviewHistory(GatewayMetrics metrics, Duration interval) {
    this.registry = metrics.registry();
    this.interval = interval;
    this.capacity = (int) (WINDOW.toMillis() / interval.toMillis()) + 1;
    this.ring = new ArrayDeque<>(capacity);
    sample();
  }

  public Duration interval() {
    return interval;
  }

  /** Takes one sample; the oldest leaves the ring once it holds an hour. */
  public void sample() {
    Sample s = read();
    synchronized (this) {
      if (ring.size() == capacity) {
        ring.removeFirst();
      }
      ring.addLast(s);
    }
  }

  /** The overview as the console shows it: per-interval series, last-hour totals, queue depth, dependencies. */
  public JsonObject toJson() {
    List<Sample> samples;
    synchronized (this) {
      samples = new ArrayList<>(ring);
    }
    Sample now = read();
    samples.add(now);
    Sample first = samples.get(0);

    JsonArray t = new JsonArray();
    JsonArray accepted = new JsonArray();
    JsonArray duplicate = new JsonArray();
    JsonArray rejected = new JsonArray();
    JsonArray successRate = new JsonArray();
    JsonArray pending = new JsonArray();
    JsonArray inFlight = new JsonArray();
    JsonArray dead = new JsonArray();
    for (int i = 1; i < samples.size(); i++) {
      Sample a = samples.get(i - 1);
      Sample b = samples.get(i);
      double seconds = Math.max(0.001, (b.atMillis() - a.atMillis()) / 1000.0);
      t.add(b.atMillis() / 1000);
      accepted.add(round((b.accepted() - a.accepted()) / seconds));
      duplicate.add(round((b.duplicate() - a.duplicate()) / seconds));
      rejected.add(round((b.rejected() - a.rejected()) / seconds));
      successRate.add(ratio(b.deliverySuccess() - a.deliverySuccess(),
          b.deliverySuccess() - a.deliverySuccess() + b.deliveryFailure() - a.deliveryFailure()));
      pending.add((long) b.pending());
      inFlight.add((long) b.inFlight());
      dead.add((long) b.dead());
    }

    JsonObject byReason = new JsonObject();
    now.rejectedByReason().forEach((reason, count) -> {
      long delta = (long) (count - first.rejectedByReason().getOrDefault(reason, 0.0));
      if (delta > 0) {
        byReason.put(reason, delta);
      }
    });
    double attempts = now.deliverySuccess() - first.deliverySuccess() + now.deliveryFailure() - first.deliveryFailure();
    JsonObject lastHour = new JsonObject()
        .put("sinceMillis", first.atMillis())
        .put("accepted", (long) (now.accepted() - first.accepted()))
        .put("duplicate", (long) (now.duplicate() - first.duplicate()))
        .put("rejected", (long) (now.rejected() - first.rejected()))
        .put("rejectionsByReason", byReason)
        .put("attributionRate", ratio(now.attributed() - first.attributed(), now.recorded() - first.recorded()))
        .put("deliveryAttempts", (long) attempts)
        .put("deliverySuccessRate", ratio(now.deliverySuccess() - first.deliverySuccess(), attempts));
    JsonObject dependencies = new JsonObject();
    now.dependencies().forEach(dependencies::put);
    return new JsonObject()
        .put("scope", "this instance")
        .put("intervalSeconds", interval.toSeconds())
        .put("windowSeconds", WINDOW.toSeconds())
        .put("lastHour", lastHour)
        .put("queue", new JsonObject().put("pending", (long) now.pending()).put("inFlight", (long) now.inFlight())
            .put("dead", (long) now.dead()))
        .put("dependencies", dependencies)
        .put("series", new JsonObject().put("t", t).put("acceptedPerSecond", accepted)
            .put("duplicatePerSecond", duplicate).put("rejectedPerSecond", rejected)
            .put("deliverySuccessRate", successRate).put("pending", pending).put("inFlight", inFlight)
            .put("dead", dead));
  }

  private Sample read() {
    double accepted = 0;
    double duplicate = 0;
    double rejected = 0;
    Map<String, Double> byReason = new TreeMap<>();
    for (Counter c : registry.find("gateway.postbacks").counters()) {
      switch (c.getId().getTag("outcome")) {
        case "accepted" -> accepted += c.count();
        case "duplicate" -> duplicate += c.count();
        default -> {
          rejected += c.count();
          byReason.merge(c.getId().getTag("reason"), c.count(), Double::sum);
        }
      }
    }
    double attributed = 0;
    double recorded = 0;
    for (Counter c : registry.find("gateway.attributions").counters()) {
      String status = c.getId().getTag("status");
      // Refund statuses describe reversals, not whether a new conversion found its affiliate.
      if (status.startsWith("refund")) {
        continue;
      }
      recorded += c.count();
      if (status.equals("attributed")) {
        attributed += c.count();
      }
    }
    double success = 0;
    double failure = 0;
    for (Counter c : registry.find("gateway.delivery.attempts").counters()) {
      if ("success".equals(c.getId().getTag("outcome"))) {
        success += c.count();
      } else {
        failure += c.count();
      }
    }
    Map<String, Double> depth = new TreeMap<>();
    for (Gauge g : registry.find("gateway.delivery.queue.depth").gauges()) {
      depth.put(g.getId().getTag("state"), g.value());
    }
    Map<String, Boolean> dependencies = new TreeMap<>();
    for (Gauge g : registry.find("gateway.dependency.up").gauges()) {
      dependencies.put(g.getId().getTag("dependency"), g.value() >= 1);
    }
    return new Sample(System.currentTimeMillis(), accepted, duplicate, rejected, attributed, recorded, success, failure,
        depth.getOrDefault("pending", 0.0), depth.getOrDefault("in_flight", 0.0), depth.getOrDefault("dead", 0.0),
        byReason, dependencies);
  }

  private static Object ratio(double part, double whole) {
    return whole <= 0 ? null : round(part / whole);
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
