package io.postback.gateway.net;

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

  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"dead.beef", "cafe", "beef.cafe/16", "face:b00c", "127.1",
      "10", "1.2.3", "1.2.3.4.5", "0x7f.0.0.1", "01.02.03.004x", "256.1.1.1", "::ffff:1.2.3", "1.2.3.4 5", "localhost",
      "1.2.3.4%eth0/32"})
  void onlyStrictAddressLiteralsAreAcceptedNeverHostNamesOrLenientForms(String notation) {
    // Old parsing handed anything made of [0-9A-Fa-f:.] to InetAddress.getByName: "dead.beef" and "cafe" went to
    // DNS, "127.1", "10" and "1.2.3" were read as 127.0.0.1, 0.0.0.10 and 1.2.0.3.
    assertThatThrownBy(() -> Cidr.parse(notation)).isInstanceOf(IllegalArgumentException.class);
    assertThat(Cidr.address(notation)).isNull();
    assertThat(Cidr.parse("0.0.0.0/0").contains(notation)).isFalse();
  }

  @Test
  void literalsParseToTheirBytesAndMappedAddressesAsIpv4() {
    assertThat(Cidr.address("203.0.113.7")).containsExactly(203, 0, 113, 7);
    assertThat(Cidr.address("::ffff:203.0.113.7")).containsExactly(203, 0, 113, 7);
    assertThat(Cidr.address("2001:DB8::1")).hasSize(16);
    assertThat(Cidr.parse("2001:db8::/32").contains("2001:DB8:0:0:0:0:0:1")).isTrue();
  }

  @Test
  void invalidNotationsAndHostNamesAreRefused() {
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Cidr.parse("example.com/24")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/x")).isInstanceOf(IllegalArgumentException.class);
  }
}
