package io.postback.gateway.ingest;

import io.postback.gateway.surface.Surface;
import org.junit.jupiter.api.Test;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Random;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hot path's hand-written checks (surface id, event type, the common occurredAt form) say exactly what
 * the regular expressions and the ISO parser they replace say, over random and edge-case inputs.
 */
class HandWrittenCheckTest {
  private static final Pattern SURFACE_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Pattern EVENT_TYPE = Pattern.compile("[a-z][a-z0-9_]{0,31}");
  private static final String ALPHABET = "aZz09_-.A:é \u0000";

  @Test
  void surfaceIdsAsTheRegex() {
    Random random = new Random(7);
    assertThat(Surface.validId(null)).isFalse();
    for (int i = 0; i < 200_000; i++) {
      String id = randomText(random, ALPHABET, random.nextInt(70));
      assertThat(Surface.validId(id)).as(id).isEqualTo(SURFACE_ID.matcher(id).matches());
    }
    assertThat(Surface.validId("a".repeat(64))).isTrue();
    assertThat(Surface.validId("a".repeat(65))).isFalse();
  }

  @Test
  void eventTypesAsTheRegex() {
    Random random = new Random(11);
    for (int i = 0; i < 200_000; i++) {
      String type = randomText(random, "az09_A-", 1 + random.nextInt(32));
      ConversionDraft d = new ConversionDraft();
      d.externalId = "x";
      d.eventType = type;
      boolean accepted;
      try {
        d.validate("s", Instant.now(), java.time.Duration.ofDays(30));
        accepted = true;
      } catch (RuntimeException e) {
        accepted = !e.getMessage().contains("lowercase token");
      }
      assertThat(accepted).as(type).isEqualTo(EVENT_TYPE.matcher(type).matches());
    }
  }

  @Test
  void utcInstantsAsTheIsoParser() {
    Random random = new Random(13);
    String[] edges = {"2026-01-31T12:00:00Z", "2024-02-29T23:59:59.999999999Z", "2023-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-01-01T24:00:00Z",
        "2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z", "0000-01-01T00:00:00Z", "2026-01-01T00:00:00.Z",
        "2026-01-01T00:00:00.1Z", "2026-01-01T00:00:00.1234567890Z", "2026-01-01t00:00:00Z", "2026-01-01T00:00:00z",
        "2026-01-01T00:00Z", "2026-01-01T00:00:00+00:00", "+2026-01-01T00:00:00Z", "2026-1-01T00:00:00Z",
        "2026-01-01T00:00:00.12345Z", "2026-01-01T0a:00:00Z", "2026-01-01 00:00:00Z"};
    for (String edge : edges) {
      assertSameAsIso(edge);
    }
    for (int i = 0; i < 200_000; i++) {
      char[] t = ("%04d-%02d-%02dT%02d:%02d:%02d".formatted(random.nextInt(10_000), random.nextInt(14), random.nextInt(33),
          random.nextInt(26), random.nextInt(62), random.nextInt(62))
          + (random.nextBoolean() ? "" : "." + "123456789012".substring(0, random.nextInt(12))) + "Z").toCharArray();
      if (random.nextInt(4) == 0) {
        t[random.nextInt(t.length)] = "0-:T.Zx9".charAt(random.nextInt(8));
      }
      assertSameAsIso(new String(t));
    }
  }

  private static void assertSameAsIso(String text) {
    Instant iso;
    try {
      iso = OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeException e) {
      iso = null;
    }
    Instant fast;
    try {
      fast = ConversionDraft.parseUtc(text);
    } catch (DateTimeException e) {
      fast = null;
      assertThat(iso).as(text).isNull();
      return;
    }
    if (fast != null) {
      assertThat(fast).as(text).isEqualTo(iso);
    }
  }

  private static String randomText(Random random, String alphabet, int length) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < length; i++) {
      b.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return b.toString();
  }
}
