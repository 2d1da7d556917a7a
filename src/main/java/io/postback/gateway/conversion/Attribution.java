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
 */
public record Attribution(ConversionStatus status, String affiliateId, long commissionMinor, String currency,
                          String fraudReason) {
  public static final Attribution UNATTRIBUTED = new Attribution(ConversionStatus.UNATTRIBUTED, null, 0, null, null);
}
