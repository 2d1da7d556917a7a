package io.postback.gateway.click;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class ClickRoutesTest {

  @ParameterizedTest(name = "{0} → {1}")
  @CsvSource({
      "https://shop.example/p,            https://shop.example/p?clickId=ck_1",
      "https://shop.example/p?a=1,        https://shop.example/p?a=1&clickId=ck_1",
      "https://shop.example/p?,           https://shop.example/p?clickId=ck_1",
      "https://shop.example/p?a=1&,       https://shop.example/p?a=1&clickId=ck_1",
      "https://shop.example/p#top,        https://shop.example/p?clickId=ck_1#top",
      "https://shop.example/p?a=1#x?y=2,  https://shop.example/p?a=1&clickId=ck_1#x?y=2",
  })
  void clickIdIsAppendedRespectingQueryAndFragment(String destination, String expected) {
    assertThat(ClickRoutes.withClickId(destination, "ck_1")).isEqualTo(expected);
  }
}
