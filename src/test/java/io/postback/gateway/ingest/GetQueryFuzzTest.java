package io.postback.gateway.ingest;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.postback.gateway.conversion.ConversionRequest;
import io.postback.gateway.http.ApiError;
import io.vertx.core.MultiMap;
import io.vertx.core.http.impl.HttpUtils;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzz target: a GET postback's raw query, decoded the way the server decodes it (Vert.x's own
 * parameter parsing, from the request line's bytes), checked, canonicalised and turned into a draft.
 * Invariants: a query is answered a draft or a 400, never another exception; the canonical form is
 * deterministic (the order the parameters came in does not matter) and decodes back to exactly the
 * used parameters, so two parameter sets that differ in any used value never share it; what
 * validation accepts is storable.
 */
class GetQueryFuzzTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

  @FuzzTest(maxDuration = "60s")
  void queryIsCanonicalisedInjectivelyAndParsedOrA400(byte[] rawQuery) {
    // The request line arrives as bytes; Vert.x sees one char per byte.
    String query = new String(rawQuery, StandardCharsets.ISO_8859_1);
    MultiMap params;
    try {
      params = HttpUtils.params("/v1/postback?" + query, StandardCharsets.UTF_8, false);
    } catch (IllegalArgumentException e) {
      return;   // answered 400 malformed_query
    }
    try {
      ClassicPostbackRoutes.checkValues(params);
    } catch (ApiError e) {
      assertThat(e.status()).isEqualTo(400);
      return;
    }
    String canonical = CanonicalQuery.of(params, ClassicPostbackRoutes.SIGNED_NAMES);
    assertThat(canonical.chars().allMatch(c -> c > 0x20 && c < 0x7F)).isTrue();
    assertThat(decode(canonical)).isEqualTo(usedPairs(params));
    MultiMap reversed = MultiMap.caseInsensitiveMultiMap();
    List<java.util.Map.Entry<String, String>> entries = new ArrayList<>(params.entries());
    Collections.reverse(entries);
    entries.forEach(e -> reversed.add(e.getKey(), e.getValue()));
    assertThat(CanonicalQuery.of(reversed, ClassicPostbackRoutes.SIGNED_NAMES)).isEqualTo(canonical);

    ConversionRequest request;
    try {
      request = ClassicPostbackRoutes.draft(params).validate("s", NOW, Duration.ofDays(7));
    } catch (ApiError e) {
      assertThat(e.status()).isEqualTo(400);
      assertThat(e.field()).isNotNull();
      return;
    }
    AcceptedRequests.assertStorable(request, NOW);
  }

  /** Every (lowercase name, value) the handler could read, sorted: what the canonical form must carry. */
  private static List<String> usedPairs(MultiMap params) {
    List<String> pairs = new ArrayList<>();
    for (java.util.Map.Entry<String, String> e : params.entries()) {
      String name = e.getKey().toLowerCase(Locale.ROOT);
      // ASCII case only, as the parameter map matches names.
      if (ClassicPostbackRoutes.SIGNED_NAMES.contains(name) && asciiEqualsIgnoreCase(name, e.getKey())) {
        pairs.add(name + "\u0000" + e.getValue());
      }
    }
    Collections.sort(pairs);
    return pairs;
  }

  /** The canonical form read back: split on '&' and the first '=', percent-decoded. */
  private static List<String> decode(String canonical) {
    List<String> pairs = new ArrayList<>();
    if (canonical.isEmpty()) {
      return pairs;
    }
    for (String pair : canonical.split("&", -1)) {
      int eq = pair.indexOf('=');
      assertThat(eq).isPositive();
      pairs.add(percentDecode(pair.substring(0, eq)) + "\u0000" + percentDecode(pair.substring(eq + 1)));
    }
    Collections.sort(pairs);
    return pairs;
  }

  private static String percentDecode(String s) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
        i += 2;
      } else {
        assertThat(c).matches(ch -> Character.isLetterOrDigit(ch) || "-._~".indexOf(ch) >= 0);
        out.write(c);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static boolean asciiEqualsIgnoreCase(String lower, String given) {
    if (lower.length() != given.length()) {
      return false;
    }
    for (int i = 0; i < lower.length(); i++) {
      char g = given.charAt(i);
      char folded = g >= 'A' && g <= 'Z' ? (char) (g + 32) : g;
      if (folded != lower.charAt(i)) {
        return false;
      }
    }
    return true;
  }
}
