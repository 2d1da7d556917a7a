package io.postback.gateway.delivery;

import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.WebhookReceiver;
import io.postback.gateway.support.WebhookReceiver.Received;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole chain an integrator sees: a click, a sale and its refund each reach a subscribed
 * endpoint as signed events carrying the right amounts.
 */
class AttributionWebhooksTest {

  @Test
  void clickSaleAndRefundArriveAsSignedEvents() throws Exception {
    try (WebhookReceiver receiver = new WebhookReceiver();
         RunningGateway gateway = RunningGateway.start(DeliveryFixtures.fast())) {
      DeliveryFixtures.forgetEndpoints();
      GatewayClient client = gateway.client();
      DeliveryFixtures.Endpoint endpoint = DeliveryFixtures.register(client, receiver.url("/finance"),
          "commission.created", "commission.reversed", "conversion.refunded");
      GatewayClient.TestSurface surface = client.createSurface();
      String affiliate = client.createAffiliate("active");
      client.createRule(surface, "sale", null, 1_000, null);
      String clickId = client.click(client.createLink(surface, affiliate, "https://shop.example/p", null));

      client.postback(surface, "{\"externalId\":\"wh-1\",\"eventType\":\"sale\",\"grossMinor\":4999,"
          + "\"currency\":\"USD\",\"clickId\":\"" + clickId + "\"}");
      client.postback(surface, "{\"externalId\":\"wh-1-r\",\"eventType\":\"refund\",\"refundOf\":\"wh-1\","
          + "\"grossMinor\":4999,\"currency\":\"USD\"}");

      Await.until("three events delivered", Duration.ofSeconds(20), () -> receiver.received("/finance").size() >= 3);
      List<Received> received = receiver.received("/finance");
      assertThat(received).extracting(r -> r.json().getString("event"))
          .containsExactlyInAnyOrder("commission.created", "commission.reversed", "conversion.refunded");
      JsonObject created = received.stream().filter(r -> r.json().getString("event").equals("commission.created"))
          .findFirst().orElseThrow().json().getJsonObject("data");
      assertThat(created.getString("affiliateId")).isEqualTo(affiliate);
      assertThat(created.getLong("amountMinor")).isEqualTo(500); // 10 % of 49.99, rounded half-up
      for (Received r : received) {
        assertThat(r.header("webhook-signature")).contains(DeliveryFixtures.expectedSignature(endpoint.secret(),
            r.header("webhook-id"), r.header("webhook-timestamp"), r.body()));
      }
    }
  }
}
