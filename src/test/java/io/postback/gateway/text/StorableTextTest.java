package io.postback.gateway.text;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class StorableTextTest {

  @Test
  void plainTextAndPairedSurrogatesAreStorable() {
    assertThat(StorableText.problem("order-1 ünïcode \uD83D\uDE00")).isNull();
    assertThat(StorableText.problem(null)).isNull();
    assertThat(StorableText.problem("")).isNull();
  }

  @Test
  void nulAndUnpairedSurrogatesAreNamed() {
    assertThat(StorableText.problem("a\u0000b")).contains("NUL");
    assertThat(StorableText.problem("a\uD800")).contains("surrogate");
    assertThat(StorableText.problem("\uDC00a")).contains("surrogate");
    assertThat(StorableText.problem("\uD800\uD800\uDC00")).contains("surrogate");
  }

  @Test
  void cleaningReplacesWhatCannotBeStoredAndKeepsTheRest() {
    assertThat(StorableText.clean("a\u0000b\uD800c\uDC00", 100)).isEqualTo("a\uFFFDb\uFFFDc\uFFFD");
    assertThat(StorableText.clean("x\uD83D\uDE00y", 100)).isEqualTo("x\uD83D\uDE00y");
    String same = "unchanged";
    assertThat(StorableText.clean(same, 100)).isSameAs(same);
  }

  @Test
  void cuttingNeverSplitsASurrogatePair() {
    assertThat(StorableText.clean("ab\uD83D\uDE00", 3)).isEqualTo("ab");
    assertThat(StorableText.clean("ab\uD83D\uDE00", 4)).isEqualTo("ab\uD83D\uDE00");
    assertThat(StorableText.clean("abcdef", 3)).isEqualTo("abc");
    assertThat(StorableText.storable(StorableText.clean("\uD800\uDC00\uD800", 2))).isTrue();
  }
}
