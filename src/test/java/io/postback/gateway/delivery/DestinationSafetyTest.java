package io.postback.gateway.delivery;

import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.TestBackends;
import io.postback.gateway.support.WebhookReceiver;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetAddress;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** SSRF: internal destinations are refused at registration and again at connect time (DNS can change). */
class DestinationSafetyTest {
  private static RunningGateway gateway;
  private static WebhookReceiver receiver;

  @BeforeAll
  static void start() {
    gateway = RunningGateway.start(DeliveryFixtures.fast("GATEWAY_ALLOW_PRIVATE_DESTINATIONS", "false"));
    DeliveryFixtures.forgetEndpoints();
    receiver = new WebhookReceiver();
  }

  @AfterAll
  static void stop() {
    DeliveryFixtures.forgetEndpoints();
    gateway.close();
    receiver.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://169.254.169.254/latest/meta-data/",
      "http://10.1.2.3/hook", "http://172.16.0.1/hook", "http://192.168.1.10/hook", "http://100.64.0.1/hook",
      "http://0.0.0.0/hook", "http://[::1]/hook", "http://[fd00:ec2::254]/hook", "http://[fe80::1]/hook",
      "http://[::ffff:127.0.0.1]/hook"})
  void internalDestinationsAreRefusedAtRegistration(String url) {
    Reply r = gateway.client().admin("POST", "/admin/webhook-endpoints", new JsonObject().put("url", url));
    assertThat(r.status()).as(url).isEqualTo(422);
    assertThat(r.error()).isEqualTo("destination_refused");
  }

  @ParameterizedTest
  @ValueSource(strings = {"https://127.1/hook", "http://2130706433/hook", "http://0x7f000001/hook", "ftp://example.com/x",
      "http://user:pw@example.com/x"})
  void obfuscatedOrNonHttpDestinationsAreRefused(String url) {
    Reply r = gateway.client().admin("POST", "/admin/webhook-endpoints", new JsonObject().put("url", url));
    assertThat(r.status()).as(url).isIn(400, 422);
  }

  @Test
  void aPublicAddressIsAccepted() {
    Reply r = gateway.client().admin("POST", "/admin/webhook-endpoints", new JsonObject().put("url", "https://93.184.215.14/hook"));
    assertThat(r.status()).isEqualTo(201);
  }

  @Test
  void aDestinationThatTurnsInternalAfterRegistrationIsRefusedAtConnectTime() {
    // As if the host's DNS answer changed to a loopback address after it was registered.
    TestBackends.execute("INSERT INTO webhook_endpoints (id, url, secret, event_types) VALUES ('whe_rebound', '"
        + receiver.url("/rebound") + "', 'whsec_dGVzdA==', ARRAY['rebound.test'])");
    TestBackends.execute("INSERT INTO events (id, type, data) VALUES ('evt_rebound_1', 'rebound.test', '{}')");

    Await.until("first attempt recorded", Duration.ofSeconds(15),
        () -> TestBackends.queryLong("SELECT count(*) FROM delivery_attempts WHERE endpoint_id = 'whe_rebound'") >= 1);
    JsonObject attempt = gateway.client().admin("GET", "/admin/webhook-endpoints/whe_rebound/attempts", null).json()
        .getJsonArray("items").getJsonObject(0);
    assertThat(attempt.getString("error")).contains("refused destination").contains("127.0.0.1");
    assertThat(attempt.getInteger("statusCode")).isNull();
    assertThat(receiver.received("/rebound")).isEmpty();
  }

  @Test
  void internalAddressesAreClassifiedCorrectly() throws Exception {
    for (String internal : new String[] {"127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "fc00::1", "198.18.0.1", "255.255.255.255"}) {
      assertThat(DestinationGuard.isInternal(InetAddress.getByName(internal))).as(internal).isTrue();
    }
    for (String external : new String[] {"8.8.8.8", "93.184.215.14", "2606:4700:4700::1111"}) {
      assertThat(DestinationGuard.isInternal(InetAddress.getByName(external))).as(external).isFalse();
    }
  }
}
