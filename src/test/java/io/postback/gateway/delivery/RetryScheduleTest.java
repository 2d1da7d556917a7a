package io.postback.gateway.delivery;

import io.netty.channel.ConnectTimeoutException;
import io.postback.gateway.config.ConfigException;
import io.postback.gateway.config.GatewayConfig;
import io.vertx.core.VertxException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

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
  void theVerdictOfAnAttemptIsSucceededPendingOrDead() {
    RetrySchedule schedule = new RetrySchedule(List.of(Duration.ofSeconds(30), Duration.ofMinutes(2)), Duration.ofHours(6));
    Instant at = Instant.parse("2026-01-01T00:00:00Z");
    Instant now = at.plusSeconds(1);

    assertThat(schedule.verdict(1, true, answered(204, null), at, now))
        .isEqualTo(new RetrySchedule.Verdict(RetrySchedule.Verdict.SUCCEEDED, null));
    RetrySchedule.Verdict retried = schedule.verdict(1, true, answered(500, null), at, now);
    assertThat(retried.state()).isEqualTo(RetrySchedule.Verdict.PENDING);
    assertThat(retried.nextAttemptAt()).isBetween(now.plusSeconds(24), now.plusSeconds(36));
    assertThat(schedule.verdict(2, true, new WebhookSender.Result(WebhookSender.Outcome.TIMEOUT, null, null,
        "no answer", null, 0), at, now).state()).as("a timeout is retried like any failure")
        .isEqualTo(RetrySchedule.Verdict.PENDING);
    assertThat(schedule.verdict(1, true, answered(503, "60"), at, now).nextAttemptAt())
        .as("Retry-After replaces the delay").isEqualTo(now.plusSeconds(60));
    assertThat(schedule.verdict(3, true, answered(500, null), at, now))
        .as("the last attempt").isEqualTo(new RetrySchedule.Verdict(RetrySchedule.Verdict.DEAD, null));
  }

  @Test
  void goneOrADisabledEndpointEndsTheDeliveryAtOnce() {
    RetrySchedule schedule = new RetrySchedule(List.of(Duration.ofSeconds(30)), Duration.ofHours(6));
    Instant now = Instant.parse("2026-01-01T00:00:00Z");

    assertThat(schedule.verdict(1, true, answered(410, "5"), now, now).state()).isEqualTo(RetrySchedule.Verdict.DEAD);
    assertThat(schedule.verdict(1, false, WebhookSender.Result.failure("endpoint disabled"), now, now).state())
        .isEqualTo(RetrySchedule.Verdict.DEAD);
  }

  @Test
  void timeoutsAreKnownByTheirTypeNotTheirMessage() {
    assertThat(WebhookSender.isTimeout(new TimeoutException())).isTrue();
    assertThat(WebhookSender.isTimeout(new ConnectTimeoutException("connect"))).isTrue();
    assertThat(WebhookSender.isTimeout(new VertxException(new TimeoutException("idle")))).isTrue();
    assertThat(WebhookSender.isTimeout(new IOException("read timeout from a receiver's own message"))).isFalse();
  }

  private static WebhookSender.Result answered(int status, String retryAfter) {
    boolean ok = status >= 200 && status < 300;
    return new WebhookSender.Result(ok ? WebhookSender.Outcome.SUCCESS : WebhookSender.Outcome.FAILURE, status,
        retryAfter, ok ? null : "HTTP " + status, null, 0);
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
