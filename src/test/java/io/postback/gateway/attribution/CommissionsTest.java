package io.postback.gateway.attribution;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The documented rounding rule: half-up, once per computed amount, in integer minor units. */
class CommissionsTest {

  @ParameterizedTest(name = "{0} × {1} bps = {2}")
  @CsvSource({
      "4999, 1250, 625",   // 624.875
      "4996, 1250, 625",   // 624.5: half goes up
      "4994, 1250, 624",   // 624.25
      "1, 5000, 1",        // 0.5
      "1, 4999, 0",        // 0.4999
      "0, 10000, 0",
      "10000, 10000, 10000",
      "100000000000000, 10000, 100000000000000",   // the bound at 100 %
      "100000000000000, 1, 10000000000",
      "99999999999999, 9999, 99989999999999",      // 99989999999999.0001
      "9600000000, 2000, 1920000000",              // IDR 96,000,000.00 at 20 %
  })
  void percentageRoundsHalfUp(long gross, int bps, long expected) {
    assertThat(Commissions.percentage(gross, bps)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0} × {1} bps is refused")
  @CsvSource({
      "9223372036854775, 1000",    // answered a negative commission before the bound
      "100000000000001, 1",
      "-1, 1000",
      "1000, 10001",
  })
  void percentageOutsideItsBoundsIsRefusedNotWrapped(long gross, int bps) {
    assertThatThrownBy(() -> Commissions.percentage(gross, bps)).isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest(name = "commission {0}, original {1}, refunded {2} → reverse {3} in total")
  @CsvSource({
      "1000, 10000, 3000, 300",
      "1000, 10000, 6333, 633",
      "1000, 10000, 12000, 1000",   // more than the original: never more than the commission
      "33, 1000, 333, 11",          // 10.989
      "33, 1000, 666, 22",          // 21.978
      "33, 1000, 1000, 33",         // the whole: exactly the commission
      "1000, , 500, 1000",          // original without an amount: full reversal
      "1000, 10000, , 1000",        // refund without an amount: full reversal
      // IDR 96,000,000.00 at 20 %, 99 % refunded: 1.92e9 × 9.504e9 overflowed a long
      "1920000000, 9600000000, 9504000000, 1900800000",
      "100000000000000, 100000000000000, 99999999999999, 99999999999999",
      "1000000000000, 100000000000000, 1, 0",          // 0.01
      "1000000000000, 100000000000000, 50, 1",         // 0.5 → 1
  })
  void reversalTargetIsProRataOnTheCumulativeRefund(long commission, Long original, Long refunded, long expected) {
    assertThat(Commissions.reversalTarget(commission, original, refunded)).isEqualTo(expected);
  }
}
