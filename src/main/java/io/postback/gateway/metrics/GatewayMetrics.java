package io.postback.gateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.postback.gateway.conversion.ConversionStatus;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The gateway's own meters, named once here so that dashboards and alert rules have one place to
 * look. Vert.x's HTTP, pool and JVM meters live in the same registry.
 */
public final class GatewayMetrics {
  private final PrometheusMeterRegistry registry;
  // By outcome, then reason: looked up per postback without building a key.
  private final Map<String, Map<String, Counter>> postbacks = new ConcurrentHashMap<>();
  private final Map<String, Counter> redisFallbacks = new ConcurrentHashMap<>();
  private final Map<String, Counter> providerEvents = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> dependencyUp = new ConcurrentHashMap<>();
  private final Map<String, Counter> attributions = new ConcurrentHashMap<>();
  private final Map<String, Counter> clicks = new ConcurrentHashMap<>();
  private final Map<String, Counter> commissions = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> queueDepth = new ConcurrentHashMap<>();
  // By kind, then outcome: looked up per attempt without building a key.
  private final Map<String, Map<String, Counter>> deliveryAttempts = new ConcurrentHashMap<>();
  private final Map<String, Counter> unknownIdLookups = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> partitionsAhead = new ConcurrentHashMap<>();
  private final Map<String, Counter> partitionsDropped = new ConcurrentHashMap<>();
  private final Map<String, Counter> rowsRetained = new ConcurrentHashMap<>();
  private final Map<String, Counter> rowsAgedOut = new ConcurrentHashMap<>();
  private final Timer attemptDuration;
  private final Counter endpointsDisabled;
  private final Counter readFallbacks;

  public GatewayMetrics() {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // Latency histograms (not client-side quantiles) so that p99 aggregates across instances.
    registry.config().meterFilter(new MeterFilter() {
      @Override
      public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
        if (id.getType() == Meter.Type.TIMER && (id.getName().startsWith("vertx.http.server")
            || id.getName().startsWith("gateway."))) {
          return DistributionStatisticConfig.builder().percentilesHistogram(true).build().merge(config);
        }
        return config;
      }
    });
    // Series exist from the start, so rate() and increase() see the first event too.
    postbackCounter("accepted", "none");
    postbackCounter("duplicate", "none");
    for (String reason : new String[] {"unknown_surface", "missing_signature", "bad_signature", "missing_timestamp",
        "stale_timestamp", "invalid_field", "malformed_json", "deadline_exceeded", "overloaded"}) {
      postbackCounter("rejected", reason);
    }
    redisFallbackCounter("dedupe_claim");
    redisFallbackCounter("rate_limit");
    for (String dependency : new String[] {"postgres", "redis"}) {
      dependency(dependency);
    }
    readFallbacks = Counter.builder("gateway.pg.read.fallbacks")
        .description("Reads meant for the Postgres read replica that the primary served because the replica did not answer")
        .register(registry);
    // Known series start at 0 so that rates and alerts work before the first event.
    for (ConversionStatus status : ConversionStatus.values()) {
      attributionCounter(status.wire());
    }
    for (String outcome : new String[] {"recorded", "suspended", "not_found", "unrecorded", "unavailable", "rate_limited"}) {
      clickCounter(outcome);
    }
    for (String state : new String[] {"pending", "in_flight", "dead"}) {
      AtomicLong depth = new AtomicLong();
      queueDepth.put(state, depth);
      Gauge.builder("gateway.delivery.queue.depth", depth, AtomicLong::get)
          .description("Deliveries (webhooks and affiliate postbacks) by state, across all instances")
          .tag("state", state)
          .register(registry);
    }
    for (String kind : new String[] {"webhook", "affiliate_postback"}) {
      Map<String, Counter> byOutcome = new ConcurrentHashMap<>();
      for (String outcome : new String[] {"success", "failure", "timeout"}) {
        byOutcome.put(outcome, Counter.builder("gateway.delivery.attempts")
            .description("Outbound delivery attempts by destination kind (webhook, affiliate_postback) and outcome")
            .tag("kind", kind)
            .tag("outcome", outcome)
            .register(registry));
      }
      deliveryAttempts.put(kind, byOutcome);
    }
    for (String kind : new String[] {"surface", "link"}) {
      for (String outcome : new String[] {"found", "absent", "failed", "cached", "over_budget"}) {
        unknownIdLookupCounter(kind, outcome);
      }
    }
    attemptDuration = Timer.builder("gateway.delivery.attempt.duration")
        .description("Duration of outbound webhook attempts")
        .register(registry);
    endpointsDisabled = Counter.builder("gateway.webhook.endpoints.disabled")
        .description("Webhook endpoints disabled automatically (410 Gone or failing for too long)")
        .register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  public String scrape() {
    return registry.scrape();
  }

  /** Counts one inbound postback: outcome accepted, duplicate or rejected; reason the error code or "none". */
  public void postback(String outcome, String reason) {
    postbackCounter(outcome, reason).increment();
  }

  private Counter postbackCounter(String outcome, String reason) {
    return postbacks.computeIfAbsent(outcome, o -> new ConcurrentHashMap<>())
        .computeIfAbsent(reason, r -> Counter.builder("gateway.postbacks")
            .description("Inbound postbacks by outcome and rejection reason")
            .tag("outcome", outcome)
            .tag("reason", reason)
            .register(registry));
  }

  /**
   * Counts one payment-provider webhook (docs/payment-providers.md) by provider and outcome: accepted,
   * duplicate, ignored, or the rejection's error code (bad_signature, ...).
   */
  public void providerEvent(String provider, String outcome) {
    providerEvents.computeIfAbsent(provider + '|' + outcome, k -> Counter.builder("gateway.provider.events")
        .description("Payment-provider webhooks by provider and outcome")
        .tag("provider", provider)
        .tag("outcome", outcome)
        .register(registry)).increment();
  }

  /** Counts one newly recorded conversion by its attribution status. */
  public void attribution(ConversionStatus status) {
    attributionCounter(status.wire()).increment();
  }

  /**
   * Counts one click on a tracking link: recorded, suspended (recorded, affiliate suspended), not_found,
   * unrecorded, unavailable, rate_limited.
   */
  public void click(String outcome) {
    clickCounter(outcome).increment();
  }

  /** Adds commission earned (minor units) in a currency; reversals are not subtracted (counters only grow). */
  public void commission(String currency, long minor) {
    commissions.computeIfAbsent(currency, k -> Counter.builder("gateway.commission.minor")
        .description("Commission earned by affiliates, in minor units of the currency")
        .tag("currency", currency)
        .register(registry)).increment(minor);
  }

  private Counter attributionCounter(String status) {
    return attributions.computeIfAbsent(status, k -> Counter.builder("gateway.attributions")
        .description("Recorded conversions by attribution status")
        .tag("status", status)
        .register(registry));
  }

  private Counter clickCounter(String outcome) {
    return clicks.computeIfAbsent(outcome, k -> Counter.builder("gateway.clicks")
        .description("Tracking-link clicks by outcome")
        .tag("outcome", outcome)
        .register(registry));
  }

  /**
   * Counts one look-up of an id not in memory (kind surface or link): found, absent or failed went to
   * Postgres; cached (remembered unknown) and over_budget (look-up budget spent) were answered without it.
   */
  public void unknownIdLookup(String kind, String outcome) {
    unknownIdLookupCounter(kind, outcome).increment();
  }

  private Counter unknownIdLookupCounter(String kind, String outcome) {
    return unknownIdLookups.computeIfAbsent(kind + '|' + outcome, k -> Counter.builder("gateway.unknown.id.lookups")
        .description("Look-ups of ids not known in memory, by kind and outcome (found, absent and failed reached Postgres)")
        .tag("kind", kind)
        .tag("outcome", outcome)
        .register(registry));
  }

  /** Counts one Redis operation that failed and was served without Redis. */
  public void redisFallback(String operation) {
    redisFallbackCounter(operation).increment();
  }

  private Counter redisFallbackCounter(String operation) {
    return redisFallbacks.computeIfAbsent(operation, k -> Counter.builder("gateway.redis.fallbacks")
        .description("Operations served without Redis because it did not answer")
        .tag("operation", operation)
        .register(registry));
  }

  /** Sets the global count of deliveries in a state: pending, in_flight or dead. */
  public void queueDepth(String state, long count) {
    queueDepth.get(state).set(count);
  }

  /** Counts one outbound attempt: kind webhook or affiliate_postback; outcome success, failure or timeout. */
  public void deliveryAttempt(String kind, String outcome, long nanos) {
    deliveryAttempts.get(kind).get(outcome).increment();
    attemptDuration.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void endpointDisabled() {
    endpointsDisabled.increment();
  }

  /** Adds a dependency to {@code gateway_dependency_up} (up until told otherwise); the fixed ones are postgres and redis. */
  public void dependency(String dependency) {
    dependencyUp.computeIfAbsent(dependency, d -> {
      AtomicInteger up = new AtomicInteger(1);
      Gauge.builder("gateway.dependency.up", up, AtomicInteger::get)
          .description("1 when the gateway last reached the dependency, 0 when it could not")
          .tag("dependency", d)
          .register(registry);
      return up;
    });
  }

  /**
   * Days after today that have their partition of a time-partitioned table, in a row
   * ({@code gateway_partitions_ahead{table}}): at 0, tomorrow's rows have nowhere to go.
   */
  public void partitionsAhead(String table, long days) {
    partitionsAhead.computeIfAbsent(table, t -> {
      AtomicLong v = new AtomicLong(-1);
      Gauge.builder("gateway.partitions.ahead", v, AtomicLong::get)
          .description("Days after today with a partition, in a row (-1 before the first check)")
          .tag("table", t)
          .register(registry);
      return v;
    }).set(days);
  }

  /** Retention: one day partition dropped, and the rows of it that were kept in the default partition. */
  public void partitionDropped(String table, long rowsKept) {
    partitionsDropped.computeIfAbsent(table, t -> Counter.builder("gateway.partitions.dropped")
        .description("Day partitions dropped by retention").tag("table", t).register(registry)).increment();
    rowsRetained.computeIfAbsent(table, t -> Counter.builder("gateway.retention.rows.kept")
        .description("Rows of dropped partitions kept in the default partition (pending and dead "
            + "deliveries, their attempts and events)").tag("table", t).register(registry)).increment(rowsKept);
  }

  /**
   * Retention: rows deleted one batch at a time: from a default partition (what aged out after it was kept,
   * or predates partitioning), or from a table that is not partitioned (provider_events).
   */
  public void rowsAgedOut(String table, long rows) {
    rowsAgedOut.computeIfAbsent(table, t -> Counter.builder("gateway.retention.rows.deleted")
        .description("Rows deleted by retention in batches (default partitions, provider events)").tag("table", t).register(registry))
        .increment(rows);
  }

  /**
   * Rows per statement of a micro-batched writer ({@code MicroBatcher}): conversions, clicks or
   * delivery_attempts. A statement's commit costs Postgres more than a dozen of its rows, so this says what
   * each row paid: many one-row statements under load mean the writer's batches in flight
   * ({@code writeBatchesInFlight}) leave nothing to queue. Statements that write a refused batch again in
   * halves count too. Buckets, not quantiles, so that instances aggregate.
   */
  public DistributionSummary writeBatchRows(String writer) {
    return DistributionSummary.builder("gateway.write.batch.rows")
        .description("Rows per statement of the micro-batched writers (conversions, clicks, delivery_attempts)")
        .tag("writer", writer)
        .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256)
        .register(registry);
  }

  /** Counts one read meant for the read replica that the primary served. */
  public void readFallback() {
    readFallbacks.increment();
  }

  /**
   * Records whether a dependency answered; returns true when this call changed the state. Writes only on a
   * change: callers on every event loop report success often, and a plain read keeps the line shared.
   */
  public boolean dependencyUp(String dependency, boolean up) {
    AtomicInteger gauge = dependencyUp.get(dependency);
    int value = up ? 1 : 0;
    return gauge.get() != value && gauge.getAndSet(value) != value;
  }
}
