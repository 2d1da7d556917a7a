package io.postback.gateway.conversion;

/**
 * Who drove a conversion and what they earn from it.
 *
 * @param status           attributed, unattributed, affiliate_suspended / affiliate_pending (credited
 *                         to an affiliate who earns nothing now), or a refund status
 * @param affiliateId      the affiliate credited, or null
 * @param commissionMinor  commission in minor units (negative for a clawback)
 * @param currency         currency of the commission, or null when there is none
 * @param fraudReason      why the conversion looks suspicious (e.g. click_to_conversion_too_fast), or null
 * @param click            the click credited, when a click was (copied onto the conversion), or null
 */
public record Attribution(ConversionStatus status, String affiliateId, long commissionMinor, String currency,
                          String fraudReason, ClickCopy click) {
  public static final Attribution UNATTRIBUTED = new Attribution(ConversionStatus.UNATTRIBUTED, null, 0, null, null, null);

  /** The same attribution, earning nothing (a conversion that arrives rejected keeps who drove it). */
  public Attribution earningNothing() {
    return new Attribution(status, affiliateId, 0, null, fraudReason, click);
  }

  /**
   * What affiliate postbacks render of the click that drove a conversion ({link_code}, {click_ip},
   * {sub1}..), copied onto the conversion when it is recorded: the click itself ages out (docs/scaling.md).
   *
   * @param subIds sub1..sub5, null where absent
   */
  public record ClickCopy(String linkCode, String ip, String[] subIds) {
  }
}
