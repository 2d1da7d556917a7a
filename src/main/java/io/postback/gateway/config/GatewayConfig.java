package io.postback.gateway.config;

import io.postback.gateway.net.Cidr;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The gateway's whole configuration, typed and validated once at start.
 *
 * <p>Values come from {@code config/gateway.json} (or the file named by {@code GATEWAY_CONFIG}); every
 * key can be overridden by the environment variable {@code GATEWAY_<KEY>} (camelCase becomes
 * UPPER_SNAKE: {@code pgUrl} → {@code GATEWAY_PG_URL}).
 *
 * @param pgUrl             {@code postgresql://user[:pass]@host:port/db}, or null to start an embedded Postgres
 * @param pgReadUrl         a streaming replica of {@code pgUrl} for heavy reads (reports, admin lists), or null
 * @param redisUrl          {@code redis://host:port[/db]}, {@code redis-cluster://host:port,host:port} (some
 *                          nodes of a Redis Cluster), or null to start an embedded Redis
 * @param adminToken        bearer token of the admin API; null means "generate one" (embedded mode only)
 * @param dataDir           where embedded servers and generated credentials live
 * @param httpInstances     HTTP verticle instances; 0 means one per event loop (= cores)
 * @param retrySchedule     delays between webhook delivery attempts
 * @param allowPrivateDestinations allow webhook URLs resolving to loopback/private addresses
 * @param metricsEnabled    Vert.x HTTP/pool/JVM meters (off only to measure their cost)
 * @param clickCacheTtl     longest a click stays in Redis (capped by the surface's attribution window);
 *                          older clicks are resolved from Postgres
 * @param delivery          the outbound webhook delivery settings
 * @param edge              what faces the network: client addresses, the management port, limits on unauthenticated traffic
 * @param waits             deadlines and queue bounds: how long anything waits on a dependency or a client
 * @param ingest            bounds on what inbound postbacks may state
 * @param retention         how long the time-partitioned tables keep their rows
 */
public record GatewayConfig(
    int httpPort,
    String pgUrl,
    String pgReadUrl,
    String redisUrl,
    String adminToken,
    Path dataDir,
    int httpInstances,
    int pgPoolSize,
    int bodyLimitBytes,
    int batchBodyLimitBytes,
    Duration timestampTolerance,
    Duration secretGracePeriod,
    Duration dedupeTtl,
    Duration redisTimeout,
    Duration surfaceRefreshInterval,
    Duration clickCacheTtl,
    List<Duration> retrySchedule,
    boolean allowPrivateDestinations,
    boolean demoSurface,
    boolean metricsEnabled,
    DeliverySettings delivery,
    EdgeSettings edge,
    WaitLimits waits,
    IngestSettings ingest,
    RetentionSettings retention) {

  public static final String DEFAULT_FILE = "config/gateway.json";

  public boolean embeddedPostgres() {
    return pgUrl == null;
  }

  public boolean embeddedRedis() {
    return redisUrl == null;
  }

  /** Loads the file (if present) named by GATEWAY_CONFIG or the default path, then applies the environment. */
  public static GatewayConfig load(Map<String, String> env) {
    String named = env.get("GATEWAY_CONFIG");
    Path file = Path.of(named != null ? named : DEFAULT_FILE);
    JsonObject json = new JsonObject();
    if (Files.exists(file)) {
      try {
        json = new JsonObject(Files.readString(file));
      } catch (IOException | DecodeException e) {
        throw new ConfigException("cannot read configuration file " + file + ": " + e.getMessage());
      }
    } else if (named != null) {
      throw new ConfigException("GATEWAY_CONFIG names " + file + ", which does not exist");
    }
    return from(json, env);
  }

  /** Builds the typed configuration from a JSON object and environment overrides; validates every value. */
  public static GatewayConfig from(JsonObject json, Map<String, String> env) {
    Source src = new Source(json, env);
    int port = src.integer("httpPort", 8080, 0, 65535);
    String pgUrl = src.string("pgUrl", null);
    if (pgUrl != null) {
      src.check("pgUrl", pgUrl.startsWith("postgresql://") || pgUrl.startsWith("postgres://"),
          "must look like postgresql://user[:pass]@host:port/db");
    }
    String pgReadUrl = src.string("pgReadUrl", null);
    if (pgReadUrl != null) {
      src.check("pgReadUrl", pgReadUrl.startsWith("postgresql://") || pgReadUrl.startsWith("postgres://"),
          "must look like postgresql://user[:pass]@host:port/db");
      src.check("pgReadUrl", pgUrl != null, "needs pgUrl: a replica of the embedded Postgres cannot exist");
    }
    String redisUrl = src.string("redisUrl", null);
    if (redisUrl != null) {
      src.check("redisUrl", redisUrl.startsWith("redis://") || redisUrl.startsWith("rediss://")
              || redisUrl.matches("redis-cluster://[^,/]+:\\d+(,[^,/]+:\\d+)*"),
          "must look like redis://host:port[/db], or redis-cluster://host:port,host:port for a Redis Cluster");
    }
    String adminToken = src.string("adminToken", null);
    if (adminToken != null) {
      src.check("adminToken", adminToken.length() >= 16, "must be at least 16 characters");
    }
    List<Duration> schedule = src.parsed("retrySchedule", "30s,2m,10m,1h,3h,3h,3h,3h,3h,3h,3h",
        GatewayConfig::parseSchedule);
    return new GatewayConfig(
        port,
        pgUrl,
        pgReadUrl,
        redisUrl,
        adminToken,
        Path.of(src.string("dataDir", "data")),
        src.integer("httpInstances", 0, 0, 256),
        src.integer("pgPoolSize", 4, 1, 100),
        src.integer("bodyLimitBytes", 64 * 1024, 1024, 16 * 1024 * 1024),
        src.integer("batchBodyLimitBytes", 4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
        src.duration("timestampTolerance", "5m"),
        src.duration("secretGracePeriod", "24h"),
        src.duration("dedupeTtl", "24h"),
        src.duration("redisTimeout", "250ms"),
        src.duration("surfaceRefreshInterval", "2s"),
        src.duration("clickCacheTtl", "24h"),
        schedule,
        src.bool("allowPrivateDestinations", false),
        src.bool("demoSurface", true),
        src.bool("metricsEnabled", true),
        deliverySettings(src),
        edgeSettings(src, port),
        waitLimits(src),
        ingestSettings(src),
        retentionSettings(src));
  }

  /**
   * Outbound webhook delivery settings.
   *
   * @param timeout             default per-attempt deadline; an endpoint may set its own up to {@link #MAX_TIMEOUT}
   * @param lease               how long a claimed delivery stays leased; longer than any attempt can take, so
   *                            only a crashed or frozen instance's claims ever return to the queue
   * @param pollInterval        how often an idle delivery verticle looks for due deliveries
   * @param reconcileInterval   how often Postgres' due pending deliveries are re-added to a lost Redis schedule
   * @param maxInFlight         deliveries one delivery verticle holds at once
   * @param endpointMaxInFlight concurrent sends to one endpoint per delivery verticle (its own setting wins)
   * @param disableAfter        an endpoint failing continuously for this long is disabled
   * @param retryAfterMax       the longest Retry-After honoured
   * @param instances           delivery verticles per gateway
   * @param stopGrace           how long a stopping gateway waits for in-flight sends before handing them back
   * @param queueDepthInterval  how often the queue-depth gauges are refreshed
   * @param queuePartitions     hash-tagged partitions of the Redis delivery schedule (more than 1 spreads it
   *                            over a Redis Cluster's masters)
   */
  public record DeliverySettings(
      Duration timeout,
      Duration lease,
      Duration pollInterval,
      Duration reconcileInterval,
      int maxInFlight,
      int endpointMaxInFlight,
      Duration disableAfter,
      Duration retryAfterMax,
      int instances,
      Duration stopGrace,
      Duration queueDepthInterval,
      int queuePartitions) {
    public static final Duration MAX_TIMEOUT = Duration.ofSeconds(30);
  }

  private static DeliverySettings deliverySettings(Source src) {
    Duration timeout = src.duration("deliveryTimeout", "10s");
    src.check("deliveryTimeout", !timeout.isZero() && timeout.compareTo(DeliverySettings.MAX_TIMEOUT) <= 0,
        "must be positive and at most 30s");
    Duration lease = src.duration("deliveryLease", "2m");
    src.check("deliveryLease", lease.compareTo(DeliverySettings.MAX_TIMEOUT.plusSeconds(5)) >= 0,
        "must be at least 35s (longer than the longest attempt)");
    Duration poll = src.duration("deliveryPollInterval", "250ms");
    src.check("deliveryPollInterval", !poll.isZero() && poll.compareTo(Duration.ofSeconds(10)) <= 0,
        "must be positive and at most 10s");
    Duration reconcile = src.duration("deliveryReconcileInterval", "10s");
    src.check("deliveryReconcileInterval", !reconcile.isZero(), "must be positive");
    Duration disableAfter = src.duration("endpointDisableAfter", "3d");
    src.check("endpointDisableAfter", !disableAfter.isZero(), "must be positive");
    Duration depth = src.duration("queueDepthInterval", "5s");
    src.check("queueDepthInterval", !depth.isZero(), "must be positive");
    return new DeliverySettings(
        timeout,
        lease,
        poll,
        reconcile,
        src.integer("deliveryMaxInFlight", 1024, 1, 100_000),
        src.integer("endpointMaxInFlight", 64, 1, 10_000),
        disableAfter,
        src.duration("retryAfterMax", "6h"),
        src.integer("deliveryInstances", 1, 0, 64),
        src.duration("deliveryStopGrace", "5s"),
        depth,
        src.integer("deliveryQueuePartitions", 1, 1, 1_024));
  }

  /**
   * What faces the network.
   *
   * @param managementPort            port of {@code /metrics} alone; 0: {@code /metrics} is on the main port
   * @param trustedProxies            peers whose {@code X-Forwarded-For} is believed (load balancers); empty: none
   * @param proxyProtocol             connections start with a PROXY protocol (v1 or v2) header naming the client
   * @param clickIpRatePerSecond      sustained clicks per second per client address (IPv6: per /64); 0: unlimited
   * @param clickIpBurst              clicks one client address may make at once
   * @param clickLinkRatePerSecond    sustained clicks per second per tracking link; 0: unlimited
   * @param clickLinkBurst            clicks one link may take at once
   * @param unknownIdLookupsPerSecond Postgres look-ups per second of surface ids (and, apart, of link codes)
   *                                  not known in memory; past it they are answered unknown without a query
   * @param expectedInstances         gateway instances sharing the surfaces' rate limits: while Redis does not
   *                                  answer, each admits this fraction of a limit
   */
  public record EdgeSettings(
      int managementPort,
      List<Cidr> trustedProxies,
      boolean proxyProtocol,
      int clickIpRatePerSecond,
      int clickIpBurst,
      int clickLinkRatePerSecond,
      int clickLinkBurst,
      int unknownIdLookupsPerSecond,
      int expectedInstances) {
  }

  private static EdgeSettings edgeSettings(Source src, int httpPort) {
    int managementPort = src.integer("managementPort", 0, 0, 65535);
    src.check("managementPort", managementPort == 0 || managementPort != httpPort,
        "must differ from httpPort (or be 0 to serve /metrics on the main port)");
    int ipRate = src.integer("clickIpRatePerSecond", 20, 0, 1_000_000);
    int ipBurst = src.integer("clickIpBurst", 100, 1, 10_000_000);
    int linkRate = src.integer("clickLinkRatePerSecond", 5_000, 0, 10_000_000);
    int linkBurst = src.integer("clickLinkBurst", 10_000, 1, 100_000_000);
    return new EdgeSettings(
        managementPort,
        src.parsed("trustedProxies", "", GatewayConfig::parseCidrs),
        src.bool("proxyProtocol", false),
        ipRate,
        ipBurst,
        linkRate,
        linkBurst,
        src.integer("unknownIdLookupsPerSecond", 20, 1, 100_000),
        src.integer("expectedInstances", 1, 1, 1_000));
  }

  private static List<Cidr> parseCidrs(String text) {
    List<Cidr> out = new ArrayList<>();
    for (String part : text.split(",")) {
      if (!part.isBlank()) {
        out.add(Cidr.parse(part));
      }
    }
    return List.copyOf(out);
  }

  /**
   * Deadlines and bounded queues: nothing waits without limit on Postgres, Redis or a slow client.
   *
   * @param requestDeadline       longest a request waits for its answer from the moment its head was read; past
   *                              it the answer is {@code 503} + Retry-After (its work may still commit later)
   * @param writeQueueLimit       rows allowed to wait for a batch, per writer and HTTP verticle; more are
   *                              answered {@code 503} at once
   * @param writeBatchesInFlight  batches each writer (conversions, clicks) of an HTTP verticle has in Postgres
   *                              at once; rows arriving meanwhile wait and go in the next batch. One keeps
   *                              batches large and commits few (each commit costs Postgres a WAL flush)
   * @param conversionRegroup     how long a committed batch of conversions waits at most for the senders it
   *                              answered, so that their next postbacks share a commit with those that queued
   *                              meanwhile (MicroBatcher#regroup; clicks always regroup 1 ms). On the postback
   *                              benchmark 1 ms grew batches from 16 to 26 rows and cut Postgres' CPU per postback
   *                              by 12-17 %; a sender alone never waits (its next postback releases the batch).
   *                              Zero: a batch goes as soon as the one before it is back, for the lowest latency
   * @param pgWaitQueueLimit      requests allowed to wait for a connection of a Postgres pool; more fail at once
   * @param httpIdleTimeout       an HTTP connection with no traffic for this long is closed
   * @param httpReadTimeout       a request's head and body must arrive within this time of its first byte,
   *                              or the connection is closed (slowloris)
   * @param postgresCheckInterval how often Postgres is probed for {@code gateway_dependency_up}
   */
  public record WaitLimits(
      Duration requestDeadline,
      int writeQueueLimit,
      int writeBatchesInFlight,
      Duration conversionRegroup,
      int pgWaitQueueLimit,
      Duration httpIdleTimeout,
      Duration httpReadTimeout,
      Duration postgresCheckInterval) {
  }

  private static WaitLimits waitLimits(Source src) {
    Duration deadline = src.duration("requestDeadline", "5s");
    src.check("requestDeadline", deadline.toMillis() >= 100 && deadline.compareTo(Duration.ofMinutes(5)) <= 0,
        "must be between 100ms and 5m");
    Duration idle = src.duration("httpIdleTimeout", "90s");
    src.check("httpIdleTimeout", idle.toSeconds() >= 1, "must be at least 1s");
    Duration read = src.duration("httpReadTimeout", "10s");
    src.check("httpReadTimeout", read.toMillis() >= 100, "must be at least 100ms");
    Duration regroup = src.duration("conversionRegroup", "1ms");
    src.check("conversionRegroup", regroup.compareTo(Duration.ofMillis(10)) <= 0, "must be between 0ms and 10ms");
    Duration check = src.duration("postgresCheckInterval", "5s");
    src.check("postgresCheckInterval", check.toMillis() >= 100, "must be at least 100ms");
    return new WaitLimits(
        deadline,
        src.integer("writeQueueLimit", 10_000, 1, 10_000_000),
        src.integer("writeBatchesInFlight", 1, 1, 100),
        regroup,
        src.integer("pgWaitQueueLimit", 1_024, 1, 1_000_000),
        idle,
        read,
        check);
  }

  /**
   * Bounds on what inbound postbacks may state.
   *
   * @param refundBackdateLimit how far before the gateway receives it a refund's {@code occurredAt} may lie
   *                            (the refund window is judged by it); long enough for weekly batch back-fills
   */
  public record IngestSettings(Duration refundBackdateLimit) {
  }

  private static IngestSettings ingestSettings(Source src) {
    Duration backdate = src.duration("refundBackdateLimit", "7d");
    src.check("refundBackdateLimit", backdate.compareTo(Duration.ofDays(366)) <= 0, "must be at most 366d");
    return new IngestSettings(backdate);
  }

  /**
   * Retention of the tables partitioned by day (docs/scaling.md, "Partitioning and retention"). A day's
   * partition is dropped once all of it is older than its table's retention; what must stay (pending and
   * dead deliveries, their attempts and events) is kept in the table's default partition.
   *
   * @param clicks             clicks; at least the longest attribution window of any surface plus a day is
   *                           kept whatever this says (an older click answers as unknown)
   * @param events             outbox events; at least {@code deliveries} (a kept delivery keeps its event anyway)
   * @param deliveries         succeeded and skipped deliveries
   * @param attempts           attempts of succeeded deliveries; at most {@code deliveries}
   * @param providerEvents     payment providers' events already answered (a redelivery within it gets the
   *                           same answer); providers redeliver for days, not weeks
   * @param partitionsAhead    days of partitions created ahead of today
   * @param interval           how often partitions are created and dropped (and once at start)
   */
  public record RetentionSettings(Duration clicks, Duration events, Duration deliveries, Duration attempts,
                                  Duration providerEvents, int partitionsAhead, Duration interval) {
  }

  private static RetentionSettings retentionSettings(Source src) {
    Duration clicks = days(src, "clickRetention", "90d");
    Duration events = days(src, "eventRetention", "30d");
    Duration deliveries = days(src, "deliveryRetention", "30d");
    Duration attempts = days(src, "attemptRetention", "30d");
    Duration providerEvents = days(src, "providerEventRetention", "30d");
    Duration interval = src.duration("partitionMaintenanceInterval", "1h");
    src.check("partitionMaintenanceInterval", interval.toSeconds() >= 1 && interval.compareTo(Duration.ofHours(12)) <= 0,
        "must be between 1s and 12h");
    return new RetentionSettings(clicks, events, deliveries, attempts, providerEvents,
        src.integer("partitionsAhead", 7, 2, 60), interval);
  }

  /** A retention: whole days, since a day partition is what is dropped. */
  private static Duration days(Source src, String key, String def) {
    Duration d = src.duration(key, def);
    src.check(key, d.compareTo(Duration.ofDays(1)) >= 0 && d.toHours() % 24 == 0 && d.toSeconds() % 3600 == 0,
        "must be whole days, at least 1d");
    return d;
  }

  /** Parses {@code 250ms}, {@code 30s}, {@code 2m}, {@code 1h}, {@code 3d}. */
  public static Duration parseDuration(String text) {
    String t = text.trim();
    int split = 0;
    while (split < t.length() && Character.isDigit(t.charAt(split))) {
      split++;
    }
    if (split == 0 || split == t.length()) {
      throw new IllegalArgumentException("'" + text + "' is not a duration such as 250ms, 30s, 2m, 1h or 3d");
    }
    long n = Long.parseLong(t.substring(0, split));
    return switch (t.substring(split)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      case "d" -> Duration.ofDays(n);
      default -> throw new IllegalArgumentException("'" + text + "' has an unknown unit (use ms, s, m, h or d)");
    };
  }

  private static List<Duration> parseSchedule(String text) {
    List<Duration> out = new ArrayList<>();
    for (String part : text.split(",")) {
      Duration d = parseDuration(part);
      if (d.isZero()) {
        throw new IllegalArgumentException("a retry delay must be positive");
      }
      out.add(d);
    }
    return List.copyOf(out);
  }

  /** Reads one key from the environment (first) or the JSON file, naming the key in every error. */
  private record Source(JsonObject json, Map<String, String> env) {

    static String envName(String key) {
      return "GATEWAY_" + key.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase();
    }

    String raw(String key) {
      String fromEnv = env.get(envName(key));
      if (fromEnv != null && !fromEnv.isBlank()) {
        return fromEnv.trim();
      }
      Object v = json.getValue(key);
      if (v instanceof JsonArray list) {
        // A list in the file ("trustedProxies": ["10.0.0.0/8", ...]) reads like its comma-separated form.
        return String.join(",", list.stream().map(String::valueOf).toList());
      }
      return v == null ? null : String.valueOf(v);
    }

    String describe(String key) {
      return env.containsKey(envName(key)) ? envName(key) : key + " (in the configuration file)";
    }

    void check(String key, boolean ok, String rule) {
      if (!ok) {
        throw new ConfigException(describe(key) + " " + rule);
      }
    }

    String string(String key, String def) {
      String v = raw(key);
      return v == null || v.isBlank() ? def : v;
    }

    <T> T parsed(String key, String def, Function<String, T> parser) {
      String v = string(key, def);
      try {
        return parser.apply(v);
      } catch (RuntimeException e) {
        throw new ConfigException(describe(key) + " is invalid: " + e.getMessage());
      }
    }

    int integer(String key, int def, int min, int max) {
      int v = parsed(key, String.valueOf(def), Integer::parseInt);
      check(key, v >= min && v <= max, "must be between " + min + " and " + max + ", was " + v);
      return v;
    }

    Duration duration(String key, String def) {
      return parsed(key, def, GatewayConfig::parseDuration);
    }

    boolean bool(String key, boolean def) {
      String v = string(key, String.valueOf(def)).toLowerCase();
      check(key, v.equals("true") || v.equals("false"), "must be true or false, was '" + v + "'");
      return Boolean.parseBoolean(v);
    }
  }
}
