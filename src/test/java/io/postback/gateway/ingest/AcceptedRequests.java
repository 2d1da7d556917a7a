package io.postback.gateway.ingest;

import io.postback.gateway.conversion.ConversionRequest;
import io.postback.gateway.text.StorableText;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fuzz targets' invariant for whatever validation accepts: it can be stored. Checked here from the
 * outside (the metadata as a tree, strings by their code points), not with the checks under test.
 */
final class AcceptedRequests {
  static final Duration BACKDATE = Duration.ofDays(7);

  private AcceptedRequests() {
  }

  static void assertStorable(ConversionRequest r, Instant receivedAt) {
    for (String text : new String[] {r.surfaceId(), r.externalId(), r.eventType(), r.currency(), r.clickId(),
        r.promoCode(), r.refundOf()}) {
      assertStorableText(text);
    }
    assertThat(r.externalId()).isNotEmpty().hasSizeLessThanOrEqualTo(ConversionDraft.MAX_EXTERNAL_ID);
    if (r.grossMinor() != null) {
      assertThat(r.grossMinor()).isBetween(0L, ConversionDraft.MAX_GROSS_MINOR);
    }
    assertThat(r.occurredAt()).isBetween(ConversionDraft.MIN_OCCURRED_AT, receivedAt.plus(ConversionDraft.MAX_FUTURE));
    if (r.isRefund()) {
      assertThat(r.occurredAt()).isAfterOrEqualTo(receivedAt.minus(BACKDATE));
    }
    if (r.metadata() != null) {
      assertThat(r.metadata().length()).isLessThanOrEqualTo(ConversionDraft.MAX_METADATA_BYTES);
      assertJsonbSafe(new JsonObject(r.metadata()), 1);
    }
  }

  /** No NUL and no lone surrogate, judged by code points, and the UTF-8 round trip is exact. */
  static void assertStorableText(String text) {
    if (text == null) {
      return;
    }
    assertThat(text.codePoints().noneMatch(cp -> cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)))
        .as("storable: %s", text.codePoints().limit(40).boxed().toList()).isTrue();
    assertThat(new String(text.getBytes(java.nio.charset.StandardCharsets.UTF_8), java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo(text);
  }

  private static void assertJsonbSafe(Object value, int depth) {
    assertThat(depth).isLessThanOrEqualTo(JsonConversionParser.MAX_METADATA_DEPTH);
    if (value instanceof JsonObject o) {
      for (Map.Entry<String, Object> e : o) {
        assertStorableText(e.getKey());
        assertJsonbSafe(e.getValue(), depth + 1);
      }
    } else if (value instanceof JsonArray a) {
      for (Object item : a) {
        assertJsonbSafe(item, depth + 1);
      }
    } else if (value instanceof String s) {
      assertStorableText(s);
    } else if (value instanceof Number n) {
      BigDecimal d = new BigDecimal(n.toString());
      if (d.signum() != 0) {
        assertThat(Math.abs((long) d.precision() - d.scale() - 1)).isLessThanOrEqualTo(308);
      }
    }
  }
}
