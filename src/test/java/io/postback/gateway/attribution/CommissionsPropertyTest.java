package io.postback.gateway.attribution;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import java.math.BigDecimal;
import java.math.RoundingMode;

import static org.assertj.core.api.Assertions.assertThat;

/** Commission arithmetic is exact everywhere inside its bounds: checked against decimal arithmetic. */
class CommissionsPropertyTest {

  @Property(tries = 2000)
  void percentageIsTheExactProductRoundedHalfUp(@ForAll @LongRange(max = Commissions.MAX_GROSS_MINOR) long gross,
                                                @ForAll @IntRange(max = 10_000) int bps) {
    BigDecimal exact = BigDecimal.valueOf(gross).multiply(BigDecimal.valueOf(bps))
        .divide(BigDecimal.valueOf(10_000), 0, RoundingMode.HALF_UP);
    assertThat(Commissions.percentage(gross, bps)).isEqualTo(exact.longValueExact());
  }

  @Property(tries = 2000)
  void reversalTargetIsTheExactProRataShareRoundedHalfUp(
      @ForAll @LongRange(min = 1, max = Commissions.MAX_GROSS_MINOR) long original,
      @ForAll @LongRange(max = Commissions.MAX_GROSS_MINOR) long refunded,
      @ForAll @LongRange(max = Commissions.MAX_GROSS_MINOR) long commission) {
    long target = Commissions.reversalTarget(commission, original, refunded);
    if (refunded >= original) {
      assertThat(target).isEqualTo(commission);
      return;
    }
    BigDecimal exact = BigDecimal.valueOf(commission).multiply(BigDecimal.valueOf(refunded))
        .divide(BigDecimal.valueOf(original), 0, RoundingMode.HALF_UP);
    assertThat(target).isEqualTo(exact.longValueExact()).isBetween(0L, commission);
  }
}
