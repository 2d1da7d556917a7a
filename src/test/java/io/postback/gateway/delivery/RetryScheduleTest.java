package io.postback.gateway.delivery;

import io.postback.gateway.config.ConfigException;
import io.postback.gateway.config.GatewayConfig;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Where retries are decided, the delivery settings, and the signature format, without any server. */
class RetryScheduleTest {

  @Test
  void theDefaultScheduleIsTwelveAttemptsOverAboutADay() {
    GatewayConfig config = GatewayConfig.from(new JsonObject(), Map.of());
    RetrySchedule schedule = new RetrySchedule(config.retrySchedule(), config.delivery().retryAfterMax());
    assertThat(schedule.maxAttempts()).isEqualTo(12);
    Duration total = config.retrySchedule().stream().reduce(Duration.ZERO, Duration::plus);
    assertThat(total).isBetween(Duration.ofHours(20), Duration.ofHours(28));
    assertThat(config.delivery().timeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(config.delivery().disableAfter()).isEqualTo(Duration.ofDays(3));
  }

  @Test
  void delaysHaveTwentyPercentJitterAndTheLastAttemptIsFinal() {
    RetrySchedule schedule = new RetrySchedule(List.of(Duration.ofSeconds(30), Duration.ofMinutes(2)), Duration.ofHours(6));
    for (int i = 0; i < 1_000; i++) {
      assertThat(schedule.nextDelay(1, null).toMillis()).isBetween(24_000L, 36_000L);
      assertThat(schedule.nextDelay(2, null).toMillis()).isBetween(96_000L, 144_000L);
    }
    assertThat(schedule.nextDelay(3, null)).isNull();
  }

  @Test
  void retryAfterReplacesTheDelayWithinBounds() {
    RetrySchedule schedule = new RetrySchedule(List.of(Duration.ofSeconds(30)), Duration.ofHours(1));
    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    assertThat(schedule.nextDelay(1, RetrySchedule.parseRetryAfter("120", now))).isEqualTo(Duration.ofSeconds(120));
    assertThat(schedule.nextDelay(1, RetrySchedule.parseRetryAfter("0", now))).isEqualTo(Duration.ofSeconds(1));
    assertThat(schedule.nextDelay(1, RetrySchedule.parseRetryAfter("86400", now))).isEqualTo(Duration.ofHours(1));
    assertThat(RetrySchedule.parseRetryAfter("Thu, 01 Jan 2026 00:05:00 GMT", now)).isEqualTo(Duration.ofMinutes(5));
    assertThat(RetrySchedule.parseRetryAfter("soon", now)).isNull();
    assertThat(schedule.nextDelay(2, Duration.ofSeconds(5))).as("no retry after the last attempt, whatever it asks").isNull();
  }

  @Test
  void badDeliverySettingsStopTheStartNamingTheVariable() {
    assertThatThrownBy(() -> GatewayConfig.from(new JsonObject(), Map.of("GATEWAY_DELIVERY_TIMEOUT", "31s")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("GATEWAY_DELIVERY_TIMEOUT");
    assertThatThrownBy(() -> GatewayConfig.from(new JsonObject(), Map.of("GATEWAY_DELIVERY_LEASE", "10s")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("GATEWAY_DELIVERY_LEASE");
    assertThatThrownBy(() -> GatewayConfig.from(new JsonObject(), Map.of("GATEWAY_RETRY_SCHEDULE", "30s,0s")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("GATEWAY_RETRY_SCHEDULE");
    assertThatThrownBy(() -> GatewayConfig.from(new JsonObject(), Map.of("GATEWAY_ENDPOINT_DISABLE_AFTER", "soon")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("GATEWAY_ENDPOINT_DISABLE_AFTER");
    assertThat(GatewayConfig.from(new JsonObject(), Map.of("GATEWAY_RETRY_SCHEDULE", "100ms,200ms")).retrySchedule())
        .containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
  }

  @Test
  void signaturesFollowTheStandardWebhooksFormat() {
    // The Standard Webhooks specification's own example.
    byte[] key = WebhookSigner.key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    String signature = WebhookSigner.sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
        Buffer.buffer("{\"test\": 2432232314}"));
    assertThat(signature).isEqualTo("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    assertThat(WebhookSigner.newSecret()).startsWith("whsec_");
  }
}
