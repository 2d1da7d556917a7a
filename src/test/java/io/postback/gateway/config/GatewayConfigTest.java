package io.postback.gateway.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GatewayConfigTest {

  @Test
  void defaultsNeedNothingConfigured() {
    GatewayConfig c = GatewayConfig.from(new JsonObject(), Map.of());
    assertThat(c.httpPort()).isEqualTo(8080);
    assertThat(c.embeddedPostgres()).isTrue();
    assertThat(c.embeddedRedis()).isTrue();
    assertThat(c.timestampTolerance()).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.bodyLimitBytes()).isEqualTo(64 * 1024);
    assertThat(c.retrySchedule()).hasSize(11).startsWith(Duration.ofSeconds(30), Duration.ofMinutes(2));
    assertThat(c.allowPrivateDestinations()).isFalse();
  }

  @Test
  void environmentOverridesTheFile() {
    GatewayConfig c = GatewayConfig.from(new JsonObject().put("httpPort", 9000).put("retrySchedule", "1m"),
        Map.of("GATEWAY_HTTP_PORT", "9100",
            "GATEWAY_PG_URL", "postgresql://app:pw@db:5432/gateway",
            "GATEWAY_REDIS_URL", "redis://cache:6379/2",
            "GATEWAY_RETRY_SCHEDULE", "30s,2m,10m,1h",
            "GATEWAY_ALLOW_PRIVATE_DESTINATIONS", "true",
            "GATEWAY_ADMIN_TOKEN", "a-long-enough-admin-token"));
    assertThat(c.httpPort()).isEqualTo(9100);
    assertThat(c.pgUrl()).isEqualTo("postgresql://app:pw@db:5432/gateway");
    assertThat(c.redisUrl()).isEqualTo("redis://cache:6379/2");
    assertThat(c.retrySchedule()).containsExactly(Duration.ofSeconds(30), Duration.ofMinutes(2),
        Duration.ofMinutes(10), Duration.ofHours(1));
    assertThat(c.allowPrivateDestinations()).isTrue();
    assertThat(c.embeddedPostgres()).isFalse();
  }

  @Test
  void badValuesStopTheStartNamingTheVariable() {
    for (var bad : List.of(
        Map.entry("GATEWAY_HTTP_PORT", "eighty"),
        Map.entry("GATEWAY_HTTP_PORT", "70000"),
        Map.entry("GATEWAY_PG_URL", "mysql://x"),
        Map.entry("GATEWAY_REDIS_URL", "localhost:6379"),
        Map.entry("GATEWAY_RETRY_SCHEDULE", "30s,soon"),
        Map.entry("GATEWAY_RETRY_SCHEDULE", "0s"),
        Map.entry("GATEWAY_ALLOW_PRIVATE_DESTINATIONS", "yes"),
        Map.entry("GATEWAY_ADMIN_TOKEN", "short"),
        Map.entry("GATEWAY_PG_READ_URL", "mysql://replica"),
        Map.entry("GATEWAY_EXPECTED_INSTANCES", "0"))) {
      assertThatThrownBy(() -> GatewayConfig.from(new JsonObject(), Map.of(bad.getKey(), bad.getValue())))
          .as(bad.toString())
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining(bad.getKey());
    }
  }

  @Test
  void everyWaitIsBoundedByDefaultAndABadBoundIsNamed() {
    GatewayConfig.WaitLimits w = GatewayConfig.from(new JsonObject(), Map.of()).waits();
    assertThat(w.requestDeadline()).isEqualTo(Duration.ofSeconds(5));
    assertThat(w.writeQueueLimit()).isEqualTo(10_000);
    assertThat(w.pgWaitQueueLimit()).isEqualTo(1_024);
    assertThat(w.httpIdleTimeout()).isEqualTo(Duration.ofSeconds(90));
    assertThat(w.httpReadTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(w.postgresCheckInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(w.conversionRegroup()).isEqualTo(Duration.ofMillis(1));
    assertThat(GatewayConfig.from(new JsonObject(), Map.of("GATEWAY_CONVERSION_REGROUP", "0ms")).waits()
        .conversionRegroup()).as("off").isZero();
    for (var bad : List.of(
        Map.entry("GATEWAY_CONVERSION_REGROUP", "11ms"),
        Map.entry("GATEWAY_REQUEST_DEADLINE", "0s"),
        Map.entry("GATEWAY_REQUEST_DEADLINE", "1h"),
        Map.entry("GATEWAY_WRITE_QUEUE_LIMIT", "0"),
        Map.entry("GATEWAY_PG_WAIT_QUEUE_LIMIT", "-1"),
        Map.entry("GATEWAY_HTTP_IDLE_TIMEOUT", "500ms"),
        Map.entry("GATEWAY_HTTP_READ_TIMEOUT", "soon"),
        Map.entry("GATEWAY_POSTGRES_CHECK_INTERVAL", "0ms"))) {
      assertThatThrownBy(() -> GatewayConfig.from(new JsonObject(), Map.of(bad.getKey(), bad.getValue())))
          .as(bad.toString())
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining(bad.getKey());
    }
  }

  @Test
  void aReadReplicaNeedsAConfiguredPrimaryAndRateLimitSharesDefaultToOneInstance() {
    assertThat(GatewayConfig.from(new JsonObject(), Map.of()).pgReadUrl()).isNull();
    assertThat(GatewayConfig.from(new JsonObject(), Map.of()).edge().expectedInstances()).isEqualTo(1);
    GatewayConfig c = GatewayConfig.from(new JsonObject(), Map.of("GATEWAY_PG_URL", "postgresql://app@db:5432/gateway",
        "GATEWAY_PG_READ_URL", "postgresql://app@replica:5432/gateway", "GATEWAY_EXPECTED_INSTANCES", "4"));
    assertThat(c.pgReadUrl()).isEqualTo("postgresql://app@replica:5432/gateway");
    assertThat(c.edge().expectedInstances()).isEqualTo(4);
    assertThatThrownBy(() -> GatewayConfig.from(new JsonObject(), Map.of("GATEWAY_PG_READ_URL", "postgresql://app@replica/gateway")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("GATEWAY_PG_READ_URL");
  }

  @Test
  void badFileValueNamesTheKey() {
    assertThatThrownBy(() -> GatewayConfig.from(new JsonObject().put("timestampTolerance", "5 minutes"), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("timestampTolerance");
  }

  @Test
  void namedConfigFileMustExist() {
    assertThatThrownBy(() -> GatewayConfig.load(Map.of("GATEWAY_CONFIG", "/nonexistent/gateway.json")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("GATEWAY_CONFIG");
  }

  /** The defaults are written once, in GatewayConfig; the shipped file shows them and must not drift from them. */
  @Test
  void shippedConfigFileStatesExactlyTheDefaults() {
    GatewayConfig shipped = GatewayConfig.load(Map.of("GATEWAY_CONFIG", "config/gateway.json"));

    assertThat(shipped).usingRecursiveComparison().isEqualTo(GatewayConfig.from(new JsonObject(), Map.of()));
    assertThat(shipped.ingest().refundBackdateLimit()).isEqualTo(Duration.ofDays(7));
  }

  @Test
  void retentionIsInWholeDaysAndPartitionsAheadAtLeastTwo() {
    GatewayConfig.RetentionSettings r = GatewayConfig.from(new JsonObject(), Map.of()).retention();
    assertThat(r.clicks()).isEqualTo(Duration.ofDays(90));
    assertThat(r.events()).isEqualTo(Duration.ofDays(30));
    assertThat(r.deliveries()).isEqualTo(Duration.ofDays(30));
    assertThat(r.attempts()).isEqualTo(Duration.ofDays(30));
    assertThat(r.partitionsAhead()).isEqualTo(7);
    assertThat(GatewayConfig.from(new JsonObject(), Map.of("GATEWAY_ATTEMPT_RETENTION", "14d")).retention().attempts())
        .isEqualTo(Duration.ofDays(14));
    assertThatThrownBy(() -> GatewayConfig.from(new JsonObject(), Map.of("GATEWAY_CLICK_RETENTION", "36h")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("GATEWAY_CLICK_RETENTION");
    assertThatThrownBy(() -> GatewayConfig.from(new JsonObject(), Map.of("GATEWAY_PARTITIONS_AHEAD", "1")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("GATEWAY_PARTITIONS_AHEAD");
  }

  @Test
  void refundBackdateLimitDefaultsToAWeekAndIsBounded() {
    assertThat(GatewayConfig.from(new JsonObject(), Map.of()).ingest().refundBackdateLimit()).isEqualTo(Duration.ofDays(7));
    assertThat(GatewayConfig.from(new JsonObject(), Map.of("GATEWAY_REFUND_BACKDATE_LIMIT", "36h")).ingest()
        .refundBackdateLimit()).isEqualTo(Duration.ofHours(36));
    assertThatThrownBy(() -> GatewayConfig.from(new JsonObject(), Map.of("GATEWAY_REFUND_BACKDATE_LIMIT", "400d")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("GATEWAY_REFUND_BACKDATE_LIMIT");
  }

  @Test
  void edgeSettingsHaveSafeDefaultsAndAreValidated() {
    GatewayConfig.EdgeSettings d = GatewayConfig.from(new JsonObject(), Map.of()).edge();
    assertThat(d.managementPort()).isZero();
    assertThat(d.trustedProxies()).isEmpty();
    assertThat(d.proxyProtocol()).isFalse();
    assertThat(d.clickIpRatePerSecond()).isEqualTo(20);
    assertThat(d.clickLinkRatePerSecond()).isEqualTo(5_000);

    GatewayConfig.EdgeSettings set = GatewayConfig.from(
        new JsonObject().put("trustedProxies", new io.vertx.core.json.JsonArray().add("10.0.0.0/8").add("2001:db8::/32")),
        Map.of("GATEWAY_MANAGEMENT_PORT", "9090", "GATEWAY_CLICK_IP_RATE_PER_SECOND", "0")).edge();
    assertThat(set.trustedProxies()).extracting(Object::toString).containsExactly("10.0.0.0/8", "2001:db8::/32");
    assertThat(set.managementPort()).isEqualTo(9090);
    assertThat(set.clickIpRatePerSecond()).isZero();

    for (var bad : List.of(
        Map.entry("GATEWAY_MANAGEMENT_PORT", "8080"),
        Map.entry("GATEWAY_TRUSTED_PROXIES", "10.0.0.0/8, lb.internal"),
        Map.entry("GATEWAY_TRUSTED_PROXIES", "10.0.0.0/33"),
        Map.entry("GATEWAY_PROXY_PROTOCOL", "maybe"),
        Map.entry("GATEWAY_CLICK_IP_BURST", "0"),
        Map.entry("GATEWAY_UNKNOWN_ID_LOOKUPS_PER_SECOND", "0"))) {
      assertThatThrownBy(() -> GatewayConfig.from(new JsonObject(), Map.of(bad.getKey(), bad.getValue())))
          .as(bad.toString())
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining(bad.getKey());
    }
  }
}
