package io.postback.gateway.ingest;

import java.time.Instant;

/**
 * A validated inbound conversion, whatever form it arrived in (signed JSON, track call, GET postback,
 * batch item). Everything after parsing works on this.
 *
 * @param grossMinor  amount in minor units, or null when the event carries none
 * @param metadata    the merchant's metadata object as raw JSON text, or null
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
    String metadata) {

  public boolean isRefund() {
    return "refund".equals(eventType);
  }
}
