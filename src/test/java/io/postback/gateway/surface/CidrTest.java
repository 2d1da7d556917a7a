package io.postback.gateway.surface;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CidrTest {

  @ParameterizedTest(name = "{0} contains {1}: {2}")
  @CsvSource({
      "203.0.113.0/24, 203.0.113.7, true",
      "203.0.113.0/24, 203.0.114.7, false",
      "10.0.0.0/9, 10.127.255.255, true",
      "10.0.0.0/9, 10.128.0.0, false",
      "127.0.0.1, 127.0.0.1, true",
      "127.0.0.1, 127.0.0.2, false",
      "0.0.0.0/0, 198.51.100.1, true",
      "2001:db8::/32, 2001:db8:1::5, true",
      "2001:db8::/32, 2001:db9::5, false",
      "203.0.113.0/24, ::ffff:203.0.113.9, true",
      "203.0.113.0/24, 2001:db8::1, false",
      "203.0.113.0/24, not-an-address, false",
  })
  void containment(String cidr, String address, boolean expected) {
    assertThat(Cidr.parse(cidr).contains(address)).isEqualTo(expected);
  }

  @Test
  void invalidNotationsAndHostNamesAreRefused() {
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Cidr.parse("example.com/24")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/x")).isInstanceOf(IllegalArgumentException.class);
  }
}
