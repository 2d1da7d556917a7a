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
  @ValueSource(strings = {
      "http://127.0.0.1:8080/pb?cid={click_id}", "http://localhost/pb/{sub1}", "http://169.254.169.254/pb?p={payout}",
      "http://10.1.2.3/pb", "http://[::1]/pb?cid={clickid}", "http://[::ffff:127.0.0.1]/pb?tx={txid}"})
  void internalDestinationsOfAffiliatePostbacksAreRefusedAtSave(String url) {
    String affiliate = gateway.client().createAffiliate("active");
    Reply r = gateway.client().admin("POST", "/admin/affiliates/" + affiliate + "/postbacks",
        new JsonObject().put("url", url));
    assertThat(r.status()).as(url).isEqualTo(422);
    assertThat(r.error()).isEqualTo("destination_refused");
    String ok = gateway.client().admin("POST", "/admin/affiliates/" + affiliate + "/postbacks",
        new JsonObject().put("url", "https://93.184.215.14/pb?cid={click_id}")).json().getString("id");
    Reply patched = gateway.client().admin("PATCH", "/admin/affiliates/" + affiliate + "/postbacks/" + ok,
        new JsonObject().put("url", url));
    assertThat(patched.status()).as(url).isEqualTo(422);
  }

  @Test
  void anAffiliatePostbackThatTurnsInternalIsRefusedAtConnectTime() {
    // A template whose host now resolves to loopback, as if its DNS changed after it was saved.
    TestBackends.execute("INSERT INTO webhook_endpoints (id, kind, url, method, secret, event_types, affiliate_id) "
        + "VALUES ('apb_rebound', 'affiliate_postback', '" + receiver.url("/pb-rebound") + "?cid={click_id}', 'GET', "
        + "'pbsec_x', ARRAY['conversion.created'], 'aff_rebound')");
    TestBackends.execute("INSERT INTO events (id, type, affiliate_id, data) VALUES ('evt_pb_rebound', "
        + "'conversion.created', 'aff_rebound', '{\"status\": \"attributed\"}')");
    Await.until("first attempt recorded", Duration.ofSeconds(15),
        () -> TestBackends.queryLong("SELECT count(*) FROM delivery_attempts WHERE endpoint_id = 'apb_rebound'") >= 1);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM delivery_attempts WHERE endpoint_id = 'apb_rebound' "
        + "AND error LIKE 'refused destination%127.0.0.1%'")).isPositive();
    assertThat(receiver.received("/pb-rebound")).isEmpty();
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

  @ParameterizedTest(name = "{0} internal: {1}")
  @org.junit.jupiter.params.provider.CsvSource({
      // NAT64 64:ff9b::/96 (RFC 6052): the last 32 bits are the IPv4 host.
      "64:ff9b::7f00:1,            true",   // 127.0.0.1
      "64:ff9b::a9fe:a9fe,         true",   // 169.254.169.254, the cloud metadata service
      "64:ff9b::10.1.2.3,          true",
      "64:ff9b::808:808,           false",  // 8.8.8.8
      // Local-use NAT64 64:ff9b:1::/48 (RFC 8215): not globally reachable, refused whatever it embeds.
      "64:ff9b:1::808:808,         true",
      "64:ff9b:1:a:b::7f00:1,      true",
      // 6to4 2002::/16: bits 16-47 are the IPv4 host.
      "2002:7f00:1::1,             true",   // 127.0.0.1
      "2002:c0a8:101::,            true",   // 192.168.1.1
      "2002:a9fe:a9fe:1::5,        true",   // 169.254.169.254
      "2002:808:808::1,            false",  // 8.8.8.8
      // Teredo 2001::/32: refused outright, public or internal server (bits 32-63) and client (last 32, inverted).
      "2001:0:4136:e378:8000:63bf:3fff:fdd2, true",  // server 65.54.227.120, client 192.0.2.45
      "2001:0:808:808::f7f7:f7f7,  true",   // server 8.8.8.8, client 8.8.8.8
      "2001:0:a00:1::80ff:fffe,    true",   // server 10.0.0.1, client 127.0.0.1
      // IPv4-compatible ::a.b.c.d (deprecated).
      "::127.0.0.1,                true",
      "::10.0.0.1,                 true",
      "::169.254.169.254,          true",
      "::8.8.8.8,                  false",
      // IPv4-mapped, as before.
      "::ffff:10.0.0.1,            true",
      "::ffff:8.8.8.8,             false",
      // Ordinary public IPv6 next to those prefixes is not caught by them.
      "2001:4860:4860::8888,       false",
      "2003::1,                    false",
      "64:ff9b:2::1,               false",
  })
  void ipv6FormsThatCarryAnInternalIpv4AreInternal(String address, boolean internal) throws Exception {
    assertThat(DestinationGuard.isInternal(InetAddress.getByName(address))).as(address).isEqualTo(internal);
  }

  @ParameterizedTest
  @ValueSource(strings = {"http://[64:ff9b::7f00:1]/hook", "http://[2002:a9fe:a9fe::1]/hook", "http://[::10.1.2.3]/hook",
      "http://[2001:0:808:808::f7f7:f7f7]/hook", "http://[64:ff9b:1::808:808]/hook"})
  void ipv6FormsEmbeddingInternalAddressesAreRefusedAtRegistration(String url) {
    Reply r = gateway.client().admin("POST", "/admin/webhook-endpoints", new JsonObject().put("url", url));
    assertThat(r.status()).as(url).isEqualTo(422);
    assertThat(r.error()).isEqualTo("destination_refused");
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
