package io.postback.gateway.delivery;

import io.postback.gateway.config.GatewayConfig;
import io.postback.gateway.config.GatewayConfig.DeliverySettings;
import io.postback.gateway.delivery.EndpointLanes.Admission;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Per-endpoint concurrency, without any server: a slow endpoint never takes the room of the others. */
class EndpointLanesTest {
  // Defaults: timeout 10 s, lease 2 min, so a delivery may wait behind (120 / 10 - 2) = 10 rounds of sends.
  private static final DeliverySettings SETTINGS = GatewayConfig.from(new JsonObject(), Map.of()).delivery();

  @Test
  void anEndpointGetsItsCapOfSendsThenItsLaneThenItsDeliveriesAreHandedBack() {
    EndpointLanes lanes = new EndpointLanes(SETTINGS);

    assertThat(lanes.admit(delivery("d1", "slow", 2))).isEqualTo(Admission.SEND);
    assertThat(lanes.admit(delivery("d2", "slow", 2))).isEqualTo(Admission.SEND);
    for (int i = 0; i < 2 * 10; i++) {
      assertThat(lanes.admit(delivery("w" + i, "slow", 2))).as("waiting " + i).isEqualTo(Admission.WAIT);
    }
    assertThat(lanes.admit(delivery("d3", "slow", 2))).isEqualTo(Admission.DEFER);
    assertThat(lanes.admit(delivery("e1", "other", 2))).as("another endpoint is not held up").isEqualTo(Admission.SEND);
  }

  @Test
  void aFinishedSendHandsItsSlotToTheNextWaitingDeliveryUnlessStopping() {
    EndpointLanes lanes = new EndpointLanes(SETTINGS);
    lanes.admit(delivery("d1", "e", 1));
    lanes.admit(delivery("d2", "e", 1));
    lanes.admit(delivery("d3", "e", 1));

    assertThat(lanes.finished("e", true).id()).isEqualTo("d2");
    assertThat(lanes.drain()).extracting(DeliveryStore.Claimed::id).containsExactly("d3");
    assertThat(lanes.finished("e", true)).isNull();
    assertThat(lanes.admit(delivery("d4", "e", 1))).as("the slot is free again").isEqualTo(Admission.SEND);
  }

  private static DeliveryStore.Claimed delivery(String id, String endpoint, Integer maxInFlight) {
    return new DeliveryStore.Claimed(id, 1, 1, "evt_" + id, "endpoint.test", Instant.EPOCH, "{}", endpoint,
        "https://receiver.example/", "whsec_x", null, true, null, maxInFlight);
  }
}
