package io.postback.gateway.delivery;

import io.postback.gateway.conversion.MinorUnits;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * The macro values of one event for an affiliate postback (docs/affiliate-postbacks.md, "Macros"): from
 * the event's payload and the conversion it is about, as recorded (with what it copied of its click).
 *
 * <p>Amounts per event: {@code conversion.created} and {@code conversion.approved} carry the commission
 * earned; {@code conversion.rejected} and {@code conversion.refunded} carry the reversal, negative
 * ({@code -4.99}), and a refund's {@code {gross}} is the refunded amount, negative. {@code {status}} is the
 * conversion's approval at that event (pending, approved, rejected), and {@code refunded} for a refund.
 * {@code {timestamp}} is the event's time, so every retry sends the same values.
 */
final class PostbackValues {
  /** The conversion as recorded, for the macros its events do not carry. Null fields are empty macros. */
  record Conversion(String id, String surfaceId, String externalId, String eventType, Long grossMinor,
                    String currency, String clickId, String affiliateId, String approval, long commissionMinor,
                    String commissionCurrency, String linkCode, String clickIp, JsonObject clickSubs) {
  }

  private PostbackValues() {
  }

  /** The values of {@code eventType} with payload {@code data}; {@code conversion} null when it is unknown. */
  static PostbackTemplate.Values of(String eventId, String eventType, Instant eventAt, JsonObject data,
                                    Conversion conversion) {
    Map<String, String> v = new HashMap<>();
    Map<String, String> subs = new HashMap<>();
    v.put("event", eventType);
    v.put("timestamp", Long.toString(eventAt.getEpochSecond()));
    v.put("timestamp_ms", Long.toString(eventAt.toEpochMilli()));
    if (conversion == null) {
      // endpoint.test (POST .../postbacks/{id}/test), or a conversion no longer found: test values.
      v.put("conversion_id", data.getString("conversionId", eventId));
      v.put("click_id", "test");
      v.put("txid", "test_" + eventId);
      v.put("status", "approved");
      v.put("event_type", "sale");
      amount(v, "payout", 0L, "USD");
      amount(v, "gross", 0L, "USD");
      v.put("currency", "USD");
      v.put("gross_currency", "USD");
      return new PostbackTemplate.Values(v, subs);
    }
    v.put("conversion_id", conversion.id());
    v.put("click_id", conversion.clickId());
    v.put("txid", conversion.externalId());
    v.put("event_type", conversion.eventType());
    v.put("affiliate_id", conversion.affiliateId());
    v.put("surface_id", conversion.surfaceId());
    v.put("link_code", conversion.linkCode());
    v.put("ip", conversion.clickIp());
    if (conversion.clickSubs() != null) {
      conversion.clickSubs().forEach(e -> subs.put(e.getKey(), e.getValue() == null ? null : e.getValue().toString()));
    }
    String payoutCurrency = conversion.commissionCurrency() != null ? conversion.commissionCurrency()
        : conversion.currency();
    long payout;
    Long gross = conversion.grossMinor();
    String status;
    switch (eventType) {
      case "conversion.created" -> {
        payout = data.getLong("commissionMinor", conversion.commissionMinor());
        status = data.getString("approval", conversion.approval());
      }
      case "conversion.approved" -> {
        payout = data.getLong("commissionMinor", conversion.commissionMinor());
        status = "approved";
      }
      case "conversion.rejected" -> {
        payout = -data.getLong("commissionReversedMinor", 0L);
        status = "rejected";
      }
      case "conversion.refunded" -> {
        payout = -data.getLong("commissionReversedMinor", 0L);
        Long refunded = data.getLong("refundGrossMinor");
        gross = refunded == null ? null : -refunded;
        status = "refunded";
      }
      default -> {
        payout = conversion.commissionMinor();
        status = conversion.approval();
      }
    }
    v.put("status", status);
    amount(v, "payout", payout, payoutCurrency);
    v.put("currency", payoutCurrency);
    amount(v, "gross", gross, conversion.currency());
    v.put("gross_currency", conversion.currency());
    return new PostbackTemplate.Values(v, subs);
  }

  private static void amount(Map<String, String> v, String name, Long minor, String currency) {
    if (minor == null) {
      return;
    }
    v.put(name, MinorUnits.major(minor, currency));
    v.put(name + "_minor", Long.toString(minor));
  }
}
