package io.postback.gateway.delivery;

import io.postback.gateway.delivery.DeliveryFixtures.Endpoint;
import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.TestBackends;
import io.postback.gateway.support.WebhookReceiver;
import io.postback.gateway.support.WebhookReceiver.Received;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.postback.gateway.delivery.DeliveryFixtures.deliveries;
import static io.postback.gateway.delivery.DeliveryFixtures.register;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A conversion's events are fanned out in the conversion's own commit: when the postback is answered 200,
 * its deliveries exist for the endpoints subscribed at that moment, without the outbox relay, and they are
 * on the Redis schedule. A schedule lost between that commit and the ZADD costs only time.
 */
class IngestFanOutTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  /** No delivery verticle, so no outbox relay: whatever exists was written by the ingest statement. */
  private static final String NO_DELIVERY = "GATEWAY_DELIVERY_INSTANCES";

  @AfterEach
  void forget() {
    DeliveryFixtures.forgetEndpoints();
  }

  private static String saleBody(String externalId) {
    return "{\"externalId\":\"" + externalId + "\",\"eventType\":\"sale\",\"grossMinor\":1200,\"currency\":\"EUR\"}";
  }

  /** A connection whose open transaction has run {@code sql}: it holds that statement's locks until it ends. */
  private static Connection holding(String sql) throws SQLException {
    Connection c = TestBackends.jdbc();
    c.setAutoCommit(false);
    try (Statement st = c.createStatement()) {
      st.execute(sql);
    }
    return c;
  }

  /** Until one Postgres session whose statement is like {@code queryLike} waits for a lock. */
  private static void awaitWaitingOnALock(String what, String queryLike) {
    Await.until(what, WAIT, () -> TestBackends.queryLong("SELECT count(*) FROM pg_stat_activity "
        + "WHERE wait_event_type = 'Lock' AND query LIKE ?", queryLike) == 1);
  }

  private static String sale(GatewayClient client, TestSurface surface, String externalId) {
    Reply r = client.postback(surface, saleBody(externalId));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return TestBackends.queryText("SELECT e.id FROM events e WHERE e.type = 'conversion.created' "
        + "AND e.data->>'conversionId' = ?", r.json().getString("conversionId"));
  }

  @Test
  void whenTheConversionIsAnsweredItsDeliveriesAreCommittedAndScheduled() {
    try (WebhookReceiver receiver = new WebhookReceiver();
         RunningGateway gw = RunningGateway.start(DeliveryFixtures.fast(NO_DELIVERY, "0"))) {
      DeliveryFixtures.forgetEndpoints();
      GatewayClient client = gw.client();
      Endpoint sales = register(client, receiver.url("/sales"), "conversion.created");
      Endpoint payouts = register(client, receiver.url("/payouts"), "payout.created");
      TestSurface surface = client.createSurface();

      String first = sale(client, surface, "fan-1");
      assertThat(TestBackends.queryLong("SELECT count(*) FROM events WHERE id = ? AND fanned_out", first))
          .as("the event is written fanned out: the relay has nothing to do for it").isEqualTo(1);
      String delivery = TestBackends.queryText("SELECT id FROM deliveries WHERE event_id = ? AND endpoint_id = ? "
          + "AND status = 'pending'", first, sales.id());
      assertThat(delivery).as("the subscribed endpoint's delivery, committed with the conversion").isNotNull();
      assertThat(TestBackends.queryLong("SELECT count(*) FROM deliveries WHERE event_id = ?", first))
          .as("no delivery for an endpoint not subscribed to the type").isEqualTo(1);
      Await.until("the delivery is on the Redis schedule", WAIT,
          () -> TestBackends.redis("ZSCORE", DeliveryQueue.SCHEDULE, delivery) != null);

      // Subscribed at the moment the event is written: a later endpoint gets the next conversion, not this one.
      Endpoint late = register(client, receiver.url("/late"), "conversion.created");
      String second = sale(client, surface, "fan-2");
      assertThat(deliveries(late.id(), "pending")).isEqualTo(1);
      assertThat(TestBackends.queryText("SELECT event_id FROM deliveries WHERE endpoint_id = ?", late.id()))
          .isEqualTo(second);
      assertThat(deliveries(sales.id(), "pending")).isEqualTo(2);
      assertThat(deliveries(payouts.id(), "pending")).isZero();

      // A disabled endpoint's delivery is recorded skipped, for a replay, as the relay records it.
      assertThat(client.admin("PATCH", "/admin/webhook-endpoints/" + late.id(),
          new JsonObject().put("enabled", false)).status()).isEqualTo(200);
      String third = sale(client, surface, "fan-3");
      assertThat(TestBackends.queryText("SELECT status FROM deliveries WHERE event_id = ? AND endpoint_id = ?",
          third, late.id())).isEqualTo("skipped");
    }
  }

  @Test
  void deliveriesWhoseSchedulingIsLostAfterTheCommitAreDeliveredOnce() {
    try (WebhookReceiver receiver = new WebhookReceiver()) {
      String event;
      try (RunningGateway gw = RunningGateway.start(DeliveryFixtures.fast(NO_DELIVERY, "0"))) {
        DeliveryFixtures.forgetEndpoints();
        GatewayClient client = gw.client();
        register(client, receiver.url("/lost"), "conversion.created");
        event = sale(client, gw.client().createSurface(), "lost-1");
        String delivery = TestBackends.queryText("SELECT id FROM deliveries WHERE event_id = ?", event);
        Await.until("scheduled", WAIT, () -> TestBackends.redis("ZSCORE", DeliveryQueue.SCHEDULE, delivery) != null);
      }
      // As if the gateway had died between the commit and the ZADD.
      TestBackends.redis("FLUSHALL");
      try (RunningGateway gw = RunningGateway.start(DeliveryFixtures.fast())) {
        Await.until("delivered", WAIT, () -> !receiver.received("/lost").isEmpty());
        sleep(1_000);
        List<Received> received = receiver.received("/lost");
        assertThat(received).extracting(r -> r.header("webhook-id")).containsExactly(event);
      }
    }
  }

  @Test
  void deletingAnEndpointWithAHistoryDoesNotHoldUpThePostbacksItWasSubscribedTo() throws Exception {
    try (WebhookReceiver receiver = new WebhookReceiver();
         RunningGateway gw = RunningGateway.start(DeliveryFixtures.fast(NO_DELIVERY, "0"))) {
      DeliveryFixtures.forgetEndpoints();
      GatewayClient client = gw.client();
      Endpoint doomed = register(client, receiver.url("/doomed"), "conversion.created");
      TestSurface surface = client.createSurface();
      sale(client, surface, "doomed-1");
      // A deletion that takes a while (a long history): another session holds one of its deliveries.
      try (Connection held = holding("SELECT 1 FROM deliveries WHERE endpoint_id = '" + doomed.id() + "' FOR UPDATE")) {
        CompletableFuture<Reply> deletion = CompletableFuture.supplyAsync(
            () -> client.admin("DELETE", "/admin/webhook-endpoints/" + doomed.id(), null));
        awaitWaitingOnALock("the endpoint's row deleted, its deliveries waiting", "DELETE FROM webhook_endpoints%");

        Reply meanwhile = client.postbackAsync(surface, saleBody("doomed-2")).get(10, TimeUnit.SECONDS);
        assertThat(meanwhile.status()).as("a postback during the deletion").isEqualTo(200);
        assertThat(deletion).isNotDone();
        held.rollback();
        assertThat(deletion.get(20, TimeUnit.SECONDS).status()).isEqualTo(200);
      }
      assertThat(TestBackends.queryLong("SELECT count(*) FROM deliveries WHERE endpoint_id = ?", doomed.id())).isZero();
      assertThat(client.admin("GET", "/admin/webhook-endpoints/" + doomed.id(), null).status()).isEqualTo(404);
    }
  }

  @Test
  void aPostbackWrittenWhileItsEndpointIsBeingDeletedIsWrittenWithoutIt() throws Exception {
    try (WebhookReceiver receiver = new WebhookReceiver();
         RunningGateway gw = RunningGateway.start(DeliveryFixtures.fast(NO_DELIVERY, "0"))) {
      DeliveryFixtures.forgetEndpoints();
      GatewayClient client = gw.client();
      Endpoint gone = register(client, receiver.url("/gone"), "conversion.created");
      TestSurface surface = client.createSurface();
      CompletableFuture<Reply> racing;
      try (Connection deleting = holding("DELETE FROM webhook_endpoints WHERE id = '" + gone.id() + "'")) {
        // The insert still sees the endpoint (the deletion is not committed) and waits for its row.
        racing = client.postbackAsync(surface, saleBody("racing-1"));
        awaitWaitingOnALock("the conversion insert waiting for the endpoint's row", "%INSERT INTO conversions%");
        deleting.commit();
      }
      Reply r = racing.get(10, TimeUnit.SECONDS);
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = ?",
          surface.id(), "racing-1")).isEqualTo(1);
      assertThat(TestBackends.queryLong("SELECT count(*) FROM deliveries WHERE endpoint_id = ?", gone.id())).isZero();
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
