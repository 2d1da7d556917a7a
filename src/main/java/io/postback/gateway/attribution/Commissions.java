package io.postback.gateway.attribution;

import java.math.BigInteger;

/**
 * Commission arithmetic, in integer minor units only, exact: no product or sum can wrap.
 *
 * <p>Rounding rule: <b>half-up</b> (half away from zero; all inputs are non-negative), applied once per
 * computed amount: 4999 × 1250 bps = 624.875 → 625; 4998 × 1250 bps = 624.75 → 625; 4994 × 1250 bps =
 * 624.25 → 624. Pro-rata clawbacks are computed on the <em>cumulative</em> refunded gross and the
 * amount already reversed is subtracted, so partial refunds that add up to the whole reverse exactly
 * the whole commission, never a cent more or less.
 *
 * <p>Bounds: a gross is at most {@link #MAX_GROSS_MINOR} (10^14, enforced on every inbound form) and a
 * rate at most 10,000 bps, so {@code gross × bps + 5,000} stays below 2^63 and a percentage is computed
 * in a long. A pro-rata reversal multiplies two amounts (up to 10^28): it is computed with BigInteger.
 */
public final class Commissions {
  private static final long BPS = 10_000;
  /**
   * The largest gross amount the gateway accepts: 10^14 minor units (1,000,000,000,000.00 in a
   * two-decimal currency; a 96,000,000.00 IDR sale is 9.6 × 10^9).
   */
  public static final long MAX_GROSS_MINOR = 100_000_000_000_000L;

  private Commissions() {
  }

  /** {@code grossMinor × percentBps / 10000}, rounded half-up; gross within 0..10^14, bps within 0..10000. */
  public static long percentage(long grossMinor, int percentBps) {
    if (grossMinor < 0 || grossMinor > MAX_GROSS_MINOR || percentBps < 0 || percentBps > BPS) {
      throw new IllegalArgumentException("gross " + grossMinor + " or rate " + percentBps + " bps out of bounds");
    }
    return (grossMinor * percentBps + BPS / 2) / BPS;
  }

  /**
   * The total to reverse once {@code refundedGross} of {@code originalGross} has been refunded:
   * {@code commission × refunded / original}, rounded half-up, never above the commission. A refund
   * that names no amount (or of an original without one) is a full refund.
   */
  public static long reversalTarget(long commissionMinor, Long originalGross, Long refundedGross) {
    if (refundedGross == null || originalGross == null || originalGross <= 0 || refundedGross >= originalGross) {
      return commissionMinor;
    }
    if (commissionMinor <= 0 || refundedGross <= 0) {
      return 0;
    }
    // commission × refunded < commission × original, so the quotient is below the commission: it fits.
    BigInteger original = BigInteger.valueOf(originalGross);
    BigInteger product = BigInteger.valueOf(commissionMinor).multiply(BigInteger.valueOf(refundedGross));
    return product.add(original.shiftRight(1)).divide(original).longValueExact();
  }
}
