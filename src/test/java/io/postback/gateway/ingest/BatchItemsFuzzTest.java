package io.postback.gateway.ingest;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.postback.gateway.http.ApiError;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzz target: a batch body (first byte odd: NDJSON, even: a JSON array) split into items, each then
 * parsed and validated like a single postback. Invariants: the split answers items or a 400, never
 * another exception; never more than max + 1 items; every item is a slice of the body (NDJSON: a
 * non-blank line without its line break); each item is parsed to a draft or a 400, and what validation
 * accepts is storable.
 */
class BatchItemsFuzzTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
  private static final int MAX = 20;

  @FuzzTest(maxDuration = "60s")
  void batchIsSplitIntoSlicesEachParsedOrA400(byte[] input) {
    if (input.length == 0) {
      return;
    }
    boolean ndjson = (input[0] & 1) == 1;
    byte[] body = Arrays.copyOfRange(input, 1, input.length);
    List<byte[]> items;
    try {
      items = BatchItems.split(body, ndjson, MAX);
    } catch (ApiError e) {
      assertThat(ndjson).as("NDJSON is split on line breaks alone").isFalse();
      assertThat(e.status()).isEqualTo(400);
      return;
    }
    assertThat(items.size()).isLessThanOrEqualTo(MAX + 1);
    for (byte[] item : items) {
      assertThat(item).isNotEmpty();
      assertThat(indexOf(body, item)).isGreaterThanOrEqualTo(0);
      if (ndjson) {
        assertThat(item).doesNotContain((byte) '\n');
      }
      try {
        AcceptedRequests.assertStorable(JsonConversionParser.parse(item).validate("s", NOW, Duration.ofDays(7)), NOW);
      } catch (ApiError e) {
        assertThat(e.status()).isEqualTo(400);
      }
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
