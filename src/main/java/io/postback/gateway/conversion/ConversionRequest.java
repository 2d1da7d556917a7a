package io.postback.gateway.conversion;

import java.time.Instant;

/**
 * A validated inbound conversion, whatever form it arrived in (signed JSON, track call, GET postback,
 * batch item). Everything after parsing works on this.
 *
 * @param grossMinor  amount in minor units, or null when the event carries none
 * @param metadata    the merchant's metadata object as raw JSON text, or null
 * @param approval    pending, approved or rejected as the sender stated it, or null when it stated none
 *                    (stored as approved; a repeat without a status never changes the stored approval)
 */
public record ConversionRequest(
    String surfaceId,
    String externalId,
    String eventType,
    Long grossMinor,
    String currency,
    Instant occurredAt,
    String clickId,
    String promoCode,
    String refundOf,
    String metadata,
    Approval approval) {

  /** The approval to store for a new conversion: the stated one, else approved. */
  public Approval approvalOrDefault() {
    return approval == null ? Approval.APPROVED : approval;
  }

  public boolean isRefund() {
    return "refund".equals(eventType);
  }
}
