package io.postback.gateway.click;

import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /c/{code}} is limited per client address and per link: over a limit, 429 with Retry-After
 * and a small page, and no click row. The gateway trusts 127.0.0.1 as a proxy, so each test names its
 * visitors with X-Forwarded-For.
 */
class ClickLimitsTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway(Map.of(
      "GATEWAY_TRUSTED_PROXIES", "127.0.0.1/32",
      "GATEWAY_CLICK_IP_RATE_PER_SECOND", "1",
      "GATEWAY_CLICK_IP_BURST", "5",
      "GATEWAY_CLICK_LINK_RATE_PER_SECOND", "1",
      "GATEWAY_CLICK_LINK_BURST", "20"));
  private GatewayClient client;
  private String code;

  @BeforeEach
  void newLink() {
    client = gateway.client();
    TestSurface surface = client.createSurface();
    code = client.createLink(surface, client.createAffiliate("active"), "https://shop.example/landing", null);
  }

  private Reply clickFrom(String address) {
    return client.get("/c/" + code, "x-forwarded-for", address);
  }

  private long rows() {
    return TestBackends.queryLong("SELECT count(*) FROM clicks WHERE link_code = ?", code);
  }

  @Test
  void oneAddressOverItsLimitGets429WithRetryAfterAndAPageAndNoClickIsRecorded() {
    List<Reply> replies = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      replies.add(clickFrom("198.51.100.23"));
    }
    long redirected = replies.stream().filter(r -> r.status() == 302).count();
    assertThat(redirected).isBetween(5L, 7L);
    Reply limited = replies.get(11);
    assertThat(limited.status()).isEqualTo(429);
    assertThat(limited.retryAfter()).isEqualTo("1");
    assertThat(limited.body()).contains("<h1>Too many clicks</h1>");
    assertThat(limited.location()).isNull();
    assertThat(rows()).isEqualTo(redirected);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM clicks WHERE link_code = ? AND ip = '198.51.100.23'", code))
        .isEqualTo(redirected);

    // Another visitor is not held back by the first one.
    assertThat(clickFrom("198.51.100.24").status()).isEqualTo(302);
  }

  @Test
  void anIpv6ClientIsLimitedPerSlash64() {
    for (int i = 1; i <= 5; i++) {
      assertThat(clickFrom("2001:db8:1:2::" + i).status()).isEqualTo(302);
    }
    assertThat(clickFrom("2001:db8:1:2:ffff::77").status()).isEqualTo(429);
    assertThat(clickFrom("2001:db8:1:3::1").status()).isEqualTo(302);
  }

  @Test
  void aLinkOverItsLimitGets429WhateverTheNumberOfAddresses() {
    List<Reply> replies = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      replies.add(clickFrom("203.0.113." + (i + 1)));
    }
    long redirected = replies.stream().filter(r -> r.status() == 302).count();
    assertThat(redirected).isBetween(20L, 22L);
    assertThat(replies.get(29).status()).isEqualTo(429);
    assertThat(replies.get(29).retryAfter()).isEqualTo("1");
    assertThat(rows()).isEqualTo(redirected);
  }

  @Test
  void sprayingRandomCodesFromOneAddressIsLimitedToo() {
    int notFound = 0;
    int limited = 0;
    for (int i = 0; i < 10; i++) {
      int status = client.get("/c/nope-" + i, "x-forwarded-for", "192.0.2.99").status();
      notFound += status == 404 ? 1 : 0;
      limited += status == 429 ? 1 : 0;
    }
    assertThat(notFound).isBetween(5, 7);
    assertThat(limited).isEqualTo(10 - notFound);
  }

  @ParameterizedTest(name = "{0} → {1}")
  @CsvSource({
      "203.0.113.7,                 203.0.113.7",
      "2001:db8:1:2:3:4:5:6,        2001:db8:1:2::/64",
      "2001:DB8:1:2::9,             2001:db8:1:2::/64",
      "2001:db8::1,                 2001:db8:0:0::/64",
  })
  void addressesAreKeyedPerIpv4AddressAndPerIpv6Slash64(String address, String key) {
    assertThat(ClickLimits.addressKey(address)).isEqualTo(key);
  }
}
