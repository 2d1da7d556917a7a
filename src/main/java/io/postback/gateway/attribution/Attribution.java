package io.postback.gateway.attribution;

/**
 * Who drove a conversion and what they earn from it.
 *
 * @param status           attributed, unattributed, or a refund status
 * @param affiliateId      the affiliate credited, or null
 * @param commissionMinor  commission in minor units (negative for a clawback)
 * @param currency         currency of the commission, or null when there is none
 */
public record Attribution(String status, String affiliateId, long commissionMinor, String currency) {
  public static final Attribution UNATTRIBUTED = new Attribution("unattributed", null, 0, null);
}
