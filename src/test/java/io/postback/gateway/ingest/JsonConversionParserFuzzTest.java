package io.postback.gateway.ingest;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.postback.gateway.conversion.ConversionRequest;
import io.postback.gateway.http.ApiError;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzz target: the JSON postback body, parsed and validated as POST /v1/conversions does. The seed
 * corpus (src/test/resources/.../JsonConversionParserFuzzTestInputs) runs in every build; fuzz it with
 * {@code JAZZER_FUZZ=1 mvn test -Dtest=JsonConversionParserFuzzTest -Djazzer.max_duration=60s}.
 */
class JsonConversionParserFuzzTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

  @FuzzTest(maxDuration = "60s")
  void parsedAndValidatedBodyIsStorableOrA400(byte[] body) {
    ConversionDraft draft;
    try {
      draft = JsonConversionParser.parse(body);
    } catch (ApiError e) {
      assertThat(e.status()).isEqualTo(400);
      return;
    }
    ConversionRequest request;
    try {
      request = draft.validate("s", NOW, Duration.ofDays(7));
    } catch (ApiError e) {
      assertThat(e.status()).isEqualTo(400);
      assertThat(e.field()).isNotNull();
      return;
    }
    AcceptedRequests.assertStorable(request, NOW);
  }
}
