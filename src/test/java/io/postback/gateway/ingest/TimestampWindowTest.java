package io.postback.gateway.ingest;

import io.postback.gateway.http.ApiError;
import io.postback.gateway.surface.Surface;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The x-ea-timestamp window is judged without arithmetic that can overflow. */
class TimestampWindowTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
  private static final PostbackVerifier VERIFIER = new PostbackVerifier(Duration.ofMinutes(5));
  private static final Surface SURFACE = new Surface("s", "s", "pbs_x", null, null, null, NOW, NOW,
      Surface.DEFAULT_ATTRIBUTION_WINDOW, Surface.DEFAULT_REFUND_WINDOW, null, null, List.of(), null, null, true, null, null);

  @ParameterizedTest
  @ValueSource(longs = {Long.MIN_VALUE, Long.MAX_VALUE, -1, 0})
  void extremeTimestampsAreRefused(long offset) {
    // Long.MIN_VALUE + now made now - ts overflow to Long.MIN_VALUE, whose Math.abs is negative: "fresh".
    // A sign or more than 15 digits is not a timestamp at all; 0 is one, far outside the window.
    long ts = offset == Long.MIN_VALUE ? Long.MIN_VALUE + NOW.toEpochMilli() : offset;
    assertThatThrownBy(() -> VERIFIER.checkTimestamp(SURFACE, "x-ea-timestamp", String.valueOf(ts), NOW))
        .isInstanceOfSatisfying(ApiError.class, e -> org.assertj.core.api.Assertions.assertThat(e.code())
            .isIn("stale_timestamp", "invalid_timestamp"));
  }

  @Test
  void theEdgesOfTheWindowAreInside() {
    long now = NOW.toEpochMilli();
    long tolerance = Duration.ofMinutes(5).toMillis();
    assertThatCode(() -> VERIFIER.checkTimestamp(SURFACE, "x-ea-timestamp", String.valueOf(now - tolerance), NOW)).doesNotThrowAnyException();
    assertThatCode(() -> VERIFIER.checkTimestamp(SURFACE, "x-ea-timestamp", String.valueOf(now + tolerance), NOW)).doesNotThrowAnyException();
    assertThatThrownBy(() -> VERIFIER.checkTimestamp(SURFACE, "x-ea-timestamp", String.valueOf(now + tolerance + 1), NOW))
        .isInstanceOf(ApiError.class);
  }
}
