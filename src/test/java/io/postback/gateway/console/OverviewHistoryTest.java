package io.postback.gateway.console;

import io.postback.gateway.conversion.ConversionStatus;
import io.postback.gateway.metrics.GatewayMetrics;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The overview keeps one hour of samples however long the gateway runs, and its totals are the hour's. */
class OverviewHistoryTest {
  @Test
  void theRingHoldsOneHourAndNoMore() {
    GatewayMetrics metrics = new GatewayMetrics();
    OverviewHistory history = new OverviewHistory(metrics, Duration.ofSeconds(5));
    for (int i = 0; i < 2_000; i++) {
      history.sample();
    }
    // 720 intervals of 5 s between the 721 samples kept, and the live point after the last.
    assertThat(history.toJson().getJsonObject("series").getJsonArray("t")).hasSize(721);
  }

  @Test
  void lastHourTotalsCountWhatHappenedSinceTheOldestSampleAndRefundsAreNotConversionsToAttribute() {
    GatewayMetrics metrics = new GatewayMetrics();
    metrics.postback("accepted", "none");
    OverviewHistory history = new OverviewHistory(metrics, Duration.ofSeconds(5));
    metrics.postback("accepted", "none");
    metrics.postback("rejected", "bad_signature");
    metrics.attribution(ConversionStatus.ATTRIBUTED);
    metrics.attribution(ConversionStatus.UNATTRIBUTED);
    metrics.attribution(ConversionStatus.REFUNDED);
    // Webhooks and affiliate postbacks are one delivery queue: both kinds count.
    metrics.deliveryAttempt("webhook", "success", 1_000_000);
    metrics.deliveryAttempt("affiliate_postback", "timeout", 1_000_000);
    metrics.deliveryAttempt("webhook", "failure", 1_000_000);
    metrics.deliveryAttempt("affiliate_postback", "success", 1_000_000);

    JsonObject hour = history.toJson().getJsonObject("lastHour");
    assertThat(hour.getLong("accepted")).isEqualTo(1);
    assertThat(hour.getLong("rejected")).isEqualTo(1);
    assertThat(hour.getJsonObject("rejectionsByReason").getLong("bad_signature")).isEqualTo(1);
    assertThat(hour.getDouble("attributionRate")).isEqualTo(0.5);
    assertThat(hour.getDouble("deliverySuccessRate")).isEqualTo(0.5);
    assertThat(hour.getLong("deliveryAttempts")).isEqualTo(4);
  }
}
