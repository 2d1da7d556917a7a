package io.postback.gateway.attribution;

/**
 * Commission arithmetic, in integer minor units only.
 *
 * <p>Rounding rule: <b>half-up</b> (half away from zero; all inputs are non-negative), applied once per
 * computed amount: 4999 × 1250 bps = 624.875 → 625; 4998 × 1250 bps = 624.75 → 625; 4994 × 1250 bps =
 * 624.25 → 624. Pro-rata clawbacks are computed on the <em>cumulative</em> refunded gross and the
 * amount already reversed is subtracted, so partial refunds that add up to the whole reverse exactly
 * the whole commission, never a cent more or less.
 */
public final class Commissions {
  private static final long BPS = 10_000;

  private Commissions() {
  }

  /** {@code grossMinor × percentBps / 10000}, rounded half-up. */
  public static long percentage(long grossMinor, int percentBps) {
    return divideHalfUp(Math.multiplyExact(grossMinor, (long) percentBps), BPS);
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
    return Math.min(commissionMinor, divideHalfUp(Math.multiplyExact(commissionMinor, refundedGross), originalGross));
  }

  static long divideHalfUp(long numerator, long denominator) {
    return (numerator + denominator / 2) / denominator;
  }
}
