package io.postback.gateway.text;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzz target: {@link StorableText} on any sequence of UTF-16 code units (the input bytes read as
 * UTF-16BE, so NUL and lone surrogates of both kinds occur), with a length limit from the first byte.
 * Invariants: problem() is null exactly when no code point is NUL or a lone surrogate; clean() output is
 * storable, at most the limit long, idempotent, unchanged for storable text within the limit, and
 * survives the UTF-8 round trip that storing it in Postgres is.
 */
class StorableTextFuzzTest {

  @FuzzTest(maxDuration = "60s")
  void cleanIsStorableIdempotentAndWithinItsLength(byte[] input) {
    if (input.length == 0) {
      return;
    }
    int max = input[0] & 0x7F;
    String value = new String(input, 1, input.length - 1, StandardCharsets.UTF_16BE);

    boolean storable = value.codePoints().noneMatch(cp -> cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF));
    assertThat(StorableText.problem(value) == null).isEqualTo(storable);

    String cleaned = StorableText.clean(value, max);
    assertThat(StorableText.problem(cleaned)).isNull();
    assertThat(cleaned.length()).isLessThanOrEqualTo(max);
    assertThat(StorableText.clean(cleaned, max)).isEqualTo(cleaned);
    assertThat(new String(cleaned.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)).isEqualTo(cleaned);
    if (storable && value.length() <= max) {
      assertThat(cleaned).isSameAs(value);
    }
    if (storable) {
      assertThat(value).startsWith(cleaned);
    }
  }
}
