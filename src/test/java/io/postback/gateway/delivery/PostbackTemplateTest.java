package io.postback.gateway.delivery;

import io.postback.gateway.conversion.MinorUnits;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The macro renderer on its own: every macro and alias, encoding per position (a hostile value can
 * never add, split or alter a parameter, a field or the path), refusals at save time, the signature.
 */
class PostbackTemplateTest {
  /** Values that break naive string replacement in every position. */
  static final List<String> HOSTILE = List.of(
      "a&b=c", "x=1&payout=999", "#frag", "?q=1", "\"quoted\" 'single'", "spaces and\ttabs\nnewline",
      "emoji \uD83D\uDE00 \u00e9\u4e2d", "100% %41 %zz %", "{payout}", "{click_id}{txid}", "/../../admin",
      "back\\slash", ";semi;colon", "+plus+", "lone \uD800 surrogate", "\u2028line\u2029sep", "", "a".repeat(3000));

  private static PostbackTemplate.Values values(Map<String, String> v, Map<String, String> subs) {
    return new PostbackTemplate.Values(v, subs);
  }

  private static Map<String, String> queryParams(String url) {
    String query = URI.create(url).getRawQuery();
    Map<String, String> out = new LinkedHashMap<>();
    for (String pair : query.split("&", -1)) {
      int eq = pair.indexOf('=');
      String previous = out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
          URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      assertThat(previous).as("parameter " + pair + " appears once").isNull();
    }
    return out;
  }

  /** What a tracker decodes of a value: the original, with an unpaired surrogate as U+FFFD. */
  private static String sent(String value) {
    return new String(value.replace("\uD800", "\uFFFD").getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
  }

  @Test
  void everyMacroAndAliasIsRendered() {
    StringBuilder url = new StringBuilder("https://tracker.example/pb?");
    Map<String, String> v = new HashMap<>();
    for (String m : PostbackTemplate.MACROS) {
      url.append(m).append("={").append(m).append("}&");
      v.put(m, "v_" + m);
    }
    for (String alias : PostbackTemplate.ALIASES.keySet()) {
      url.append("alias_").append(alias).append("={").append(alias).append("}&");
    }
    url.append("named={sub:campaign}");
    Map<String, String> subs = Map.of("sub1", "s1", "sub2", "s2", "sub3", "s3", "sub4", "s4", "sub5", "s5",
        "campaign", "summer");
    PostbackTemplate t = PostbackTemplate.parse(url.toString(), "GET", null);
    Map<String, String> q = queryParams(t.render(values(v, subs), null).url());
    for (String m : PostbackTemplate.MACROS) {
      assertThat(q.get(m)).as(m).isEqualTo(m.matches("sub[1-5]") ? "s" + m.charAt(3) : "v_" + m);
    }
    assertThat(q.get("alias_clickid")).isEqualTo("v_click_id");
    assertThat(q.get("alias_transaction_id")).isEqualTo("v_txid");
    assertThat(q.get("alias_amount")).isEqualTo("v_payout");
    assertThat(q.get("alias_sum")).isEqualTo("v_payout");
    assertThat(q.get("named")).isEqualTo("summer");
    assertThat(t.macros()).contains("click_id", "payout", "sub:campaign").doesNotContain("clickid", "sum");
  }

  @Test
  void absentValuesRenderEmptyNotAsTheMacro() {
    PostbackTemplate t = PostbackTemplate.parse("https://t.example/p?cid={click_id}&s={sub:none}&p={payout}", "GET", null);
    assertThat(t.render(values(Map.of(), Map.of()), null).url()).isEqualTo("https://t.example/p?cid=&s=&p=");
  }

  @Test
  void hostileValuesInTheQueryNeverAddSplitOrAlterAParameter() {
    PostbackTemplate t = PostbackTemplate.parse(
        "https://t.example/pb?cid={click_id}&payout={payout}&s1={sub1}&n={sub:x}&fixed=1", "GET", null);
    for (String hostile : HOSTILE) {
      String url = t.render(values(Map.of("click_id", hostile, "payout", "4.99"),
          Map.of("sub1", hostile, "x", hostile)), null).url();
      Map<String, String> q = queryParams(url);
      assertThat(q).as(url).containsOnlyKeys("cid", "payout", "s1", "n", "fixed");
      assertThat(q.get("cid")).isEqualTo(sent(hostile));
      assertThat(q.get("s1")).isEqualTo(sent(hostile));
      assertThat(q.get("n")).isEqualTo(sent(hostile));
      assertThat(q.get("payout")).isEqualTo("4.99");
      assertThat(q.get("fixed")).isEqualTo("1");
      assertThat(URI.create(url).getRawFragment()).isNull();
      assertThat(url).doesNotContain("{").doesNotContain(" ");
    }
  }

  @Test
  void hostileValuesInThePathStayOneSegment() {
    PostbackTemplate t = PostbackTemplate.parse("https://t.example/conv/{click_id}/done?p={payout}", "GET", null);
    for (String hostile : HOSTILE) {
      String url = t.render(values(Map.of("click_id", hostile, "payout", "1.00"), Map.of()), null).url();
      URI uri = URI.create(url);
      String[] segments = uri.getRawPath().split("/", -1);
      assertThat(segments).as(url).hasSize(4);
      assertThat(segments[3]).isEqualTo("done");
      assertThat(URLDecoder.decode(segments[2].replace("+", "%2B"), StandardCharsets.UTF_8)).isEqualTo(sent(hostile));
      assertThat(uri.getRawQuery()).isEqualTo("p=1.00");
    }
  }

  @Test
  void hostileValuesInAJsonBodyStayInsideTheirField() {
    PostbackTemplate t = PostbackTemplate.parse("https://t.example/pb", "POST",
        "{\"cid\": \"{click_id}\", \"label\": \"sale {txid} done\", \"sub\": {sub1}, \"payout\": {payout},"
            + " \"minor\": {payout_minor}, \"list\": [\"{sub:x}\"]}");
    for (String hostile : HOSTILE) {
      PostbackTemplate.Rendered r = t.render(values(Map.of("click_id", hostile, "txid", hostile, "payout", "-4.99",
          "payout_minor", "-499"), Map.of("sub1", hostile, "x", hostile)), null);
      assertThat(r.contentType()).isEqualTo("application/json");
      JsonObject json = new JsonObject(r.body());
      assertThat(json.fieldNames()).containsExactlyInAnyOrder("cid", "label", "sub", "payout", "minor", "list");
      assertThat(json.getString("cid")).isEqualTo(sent(hostile));
      assertThat(json.getString("label")).isEqualTo("sale " + sent(hostile) + " done");
      assertThat(json.getString("sub")).as("a bare text macro becomes a JSON string").isEqualTo(sent(hostile));
      assertThat(json.getValue("payout")).as("a bare amount stays a number").isEqualTo(-4.99);
      assertThat(json.getValue("minor")).isEqualTo(-499);
      assertThat(json.getJsonArray("list")).isEqualTo(new JsonArray().add(sent(hostile)));
    }
  }

  @Test
  void aBareNumericMacroWithoutValueIsJsonNull() {
    PostbackTemplate t = PostbackTemplate.parse("https://t.example/pb", "POST", "{\"gross\": {gross}}");
    assertThat(new JsonObject(t.render(values(Map.of(), Map.of()), null).body()).getValue("gross")).isNull();
    assertThat(new JsonObject(t.render(values(Map.of("gross", "1e9,\"x\":1"), Map.of()), null).body()).fieldNames())
        .as("a numeric macro with a non-number value is quoted, not injected").containsExactly("gross");
  }

  @Test
  void hostileValuesInAFormBodyStayInsideTheirField() {
    PostbackTemplate t = PostbackTemplate.parse("https://t.example/pb", "POST", "cid={click_id}&s={sub2}&k=v");
    for (String hostile : HOSTILE) {
      PostbackTemplate.Rendered r = t.render(values(Map.of("click_id", hostile), Map.of("sub2", hostile)), null);
      assertThat(r.contentType()).isEqualTo("application/x-www-form-urlencoded");
      String[] pairs = r.body().split("&", -1);
      assertThat(pairs).hasSize(3);
      assertThat(URLDecoder.decode(pairs[0].substring(4), StandardCharsets.UTF_8)).isEqualTo(sent(hostile));
      assertThat(URLDecoder.decode(pairs[1].substring(2), StandardCharsets.UTF_8)).isEqualTo(sent(hostile));
      assertThat(pairs[2]).isEqualTo("k=v");
    }
  }

  @Test
  void aValueThatLooksLikeAMacroIsSentAsTextNeverExpanded() {
    PostbackTemplate t = PostbackTemplate.parse("https://t.example/p?a={sub1}&p={payout}", "GET", null);
    String url = t.render(values(Map.of("payout", "4.99"), Map.of("sub1", "{payout}")), null).url();
    assertThat(url).isEqualTo("https://t.example/p?a=%7Bpayout%7D&p=4.99");
  }

  @Test
  void percentEncodingIsStrictUtf8() {
    StringBuilder out = new StringBuilder();
    PostbackTemplate.percentEncode(out, "a b&c=d#e?f/g%h\"\u00e9\uD83D\uDE00~-._");
    assertThat(out).hasToString("a%20b%26c%3Dd%23e%3Ff%2Fg%25h%22%C3%A9%F0%9F%98%80~-._");
  }

  @ParameterizedTest
  @ValueSource(strings = {"{foo}", "{CLICK_ID}", "{sub6}", "{click-id}x", "{payout_major}", "{sub:}", "{sub:a b}",
      "{foo:bar}"})
  void anUnknownMacroIsRefusedNamingIt(String macro) {
    String template = "https://t.example/p?x=" + macro;
    if (macro.equals("{click-id}x")) {
      // Not a macro candidate (a '-' in the name): left as literal text, and a '{' is no valid URL.
      assertThatThrownBy(() -> PostbackTemplate.parse(template, "GET", null))
          .isInstanceOf(PostbackTemplate.InvalidTemplate.class).hasMessageContaining("url");
      return;
    }
    assertThatThrownBy(() -> PostbackTemplate.parse(template, "GET", null))
        .isInstanceOf(PostbackTemplate.InvalidTemplate.class)
        .hasMessageContaining("unknown macro " + macro)
        .satisfies(e -> assertThat(((PostbackTemplate.InvalidTemplate) e).field()).isEqualTo("url"));
  }

  @Test
  void anUppercaseMacroGetsAHint() {
    assertThatThrownBy(() -> PostbackTemplate.parse("https://t.example/p?x={CLICKID}", "GET", null))
        .hasMessageContaining("macros are lowercase: {clickid}");
  }

  @Test
  void anUnknownMacroInTheBodyNamesTheBody() {
    assertThatThrownBy(() -> PostbackTemplate.parse("https://t.example/p", "POST", "{\"a\":\"{nope}\"}"))
        .isInstanceOf(PostbackTemplate.InvalidTemplate.class)
        .hasMessageContaining("unknown macro {nope}")
        .satisfies(e -> assertThat(((PostbackTemplate.InvalidTemplate) e).field()).isEqualTo("body"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"https://{sub1}.tracker.example/p", "https://tracker.example:{sub1}/p",
      "https://tracker.{click_id}/p", "http://user@tracker.example/p", "ftp://tracker.example/p?c={click_id}",
      "tracker.example/p?c={click_id}", "https://tracker.example/p#x={click_id}", "https:///p?c={click_id}",
      "javascript:alert(1)", "https://tracker.example/p?c={click_id}\u0000"})
  void urlsThatCouldMoveTheDestinationOrCannotBeSentAreRefused(String url) {
    assertThatThrownBy(() -> PostbackTemplate.parse(url, "GET", null))
        .isInstanceOf(PostbackTemplate.InvalidTemplate.class)
        .satisfies(e -> assertThat(((PostbackTemplate.InvalidTemplate) e).field()).isEqualTo("url"));
  }

  @Test
  void aBodyNeedsPostAndValidJson() {
    assertThatThrownBy(() -> PostbackTemplate.parse("https://t.example/p", "GET", "a={click_id}"))
        .hasMessageContaining("only with method POST");
    assertThatThrownBy(() -> PostbackTemplate.parse("https://t.example/p", "POST", "{\"a\": {click_id}"))
        .hasMessageContaining("not valid JSON");
    assertThatThrownBy(() -> PostbackTemplate.parse("https://t.example/p", "PUT", null))
        .satisfies(e -> assertThat(((PostbackTemplate.InvalidTemplate) e).field()).isEqualTo("method"));
  }

  @Test
  void theDestinationIsTheTemplatesHostWhateverTheValues() {
    DestinationGuard.Destination d = PostbackTemplate.parse("https://tracker.example:8443/p/{sub1}?c={click_id}",
        "GET", null).destination();
    assertThat(d.host()).isEqualTo("tracker.example");
    assertThat(d.port()).isEqualTo(8443);
    assertThat(d.ssl()).isTrue();
  }

  @Test
  void theSignatureIsTheHmacOfTheRenderedQueryAppendedLast() throws Exception {
    byte[] key = "pbsec_test".getBytes(StandardCharsets.UTF_8);
    PostbackTemplate t = PostbackTemplate.parse("https://t.example/p?cid={click_id}&p={payout}", "GET", null);
    String url = t.render(values(Map.of("click_id", "a&sig=forged", "payout", "4.99"), Map.of()), key).url();
    String query = "cid=a%26sig%3Dforged&p=4.99";
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    String expected = HexFormat.of().formatHex(mac.doFinal(query.getBytes(StandardCharsets.UTF_8)));
    assertThat(url).isEqualTo("https://t.example/p?" + query + "&sig=" + expected);
    assertThat(queryParams(url)).containsOnlyKeys("cid", "p", "sig");

    String bare = PostbackTemplate.parse("https://t.example/p", "GET", null)
        .render(values(Map.of(), Map.of()), key).url();
    assertThat(bare).startsWith("https://t.example/p?sig=").hasSize("https://t.example/p?sig=".length() + 64);
  }

  @Test
  void majorUnitsUseTheIso4217Exponent() {
    assertThat(MinorUnits.major(499, "USD")).isEqualTo("4.99");
    assertThat(MinorUnits.major(500, "JPY")).isEqualTo("500");
    assertThat(MinorUnits.major(1250, "KWD")).isEqualTo("1.250");
    assertThat(MinorUnits.major(-125, "KWD")).isEqualTo("-0.125");
    assertThat(MinorUnits.major(-499, "EUR")).isEqualTo("-4.99");
    assertThat(MinorUnits.major(5, "USD")).isEqualTo("0.05");
    assertThat(MinorUnits.major(0, "USD")).isEqualTo("0.00");
    assertThat(MinorUnits.major(Long.MAX_VALUE, "USD")).isEqualTo("92233720368547758.07");
    assertThat(MinorUnits.major(Long.MIN_VALUE, "BHD")).isEqualTo("-9223372036854775.808");
    assertThat(MinorUnits.major(499, null)).isEqualTo("4.99");
    assertThat(MinorUnits.major(499, "ZZZ")).isEqualTo("4.99");
    assertThat(MinorUnits.exponent("CLF")).isEqualTo(4);
  }

  @Test
  void valuesOfARefundCarryTheReversalNegative() {
    PostbackValues.Conversion c = new PostbackValues.Conversion("cnv_1", "s_1", "order-1", "sale", 125_000L, "KWD",
        "clk_1", "aff_1", "approved", 12_500, "KWD", "lnk", "203.0.113.9", new JsonObject().put("sub1", "a"));
    PostbackTemplate.Values v = PostbackValues.of("evt_1", "conversion.refunded", java.time.Instant.ofEpochMilli(1_700_000_000_123L),
        new JsonObject().put("conversionId", "cnv_1").put("refundGrossMinor", 62_500).put("commissionReversedMinor", 6_250),
        c);
    assertThat(v.values()).containsEntry("payout", "-6.250").containsEntry("payout_minor", "-6250")
        .containsEntry("gross", "-62.500").containsEntry("gross_minor", "-62500").containsEntry("status", "refunded")
        .containsEntry("currency", "KWD").containsEntry("txid", "order-1").containsEntry("click_id", "clk_1")
        .containsEntry("link_code", "lnk").containsEntry("ip", "203.0.113.9").containsEntry("timestamp", "1700000000")
        .containsEntry("timestamp_ms", "1700000000123").containsEntry("event", "conversion.refunded");
    assertThat(v.subs()).containsEntry("sub1", "a");
  }
}
