package io.postback.gateway.provider;

import io.postback.gateway.ingest.ConversionDraft;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * A provider's webhook event, mapped: the conversions and refunds it reports (none when it is a type the
 * gateway does not map, or reports nothing to record, with the reason). Built by {@link StripeEvents}
 * and {@link RazorpayEvents}, which read the payload defensively: a field of an unexpected type reads
 * as absent.
 *
 * @param eventId   the provider's event id (Stripe {@code evt_...}, Razorpay's x-razorpay-event-id), or null
 * @param eventType the provider's event type, e.g. {@code checkout.session.completed}
 * @param drafts    what to record, each through the one conversion pipeline
 * @param ignored   why nothing is recorded (drafts empty), else null
 * @param paidBy    the payment that paid a conversion keyed otherwise (a Stripe invoice's payment intent), or null
 */
public record ProviderEvent(String eventId, String eventType, List<ConversionDraft> drafts, String ignored,
                            PaidBy paidBy) {

  /** A payment ({@code paymentId}) that paid the conversion {@code externalId}: refunds name the payment. */
  public record PaidBy(String paymentId, String externalId) {
  }
  /** The gateway event types providers' payments map to; commission rules are set per event type. */
  static final String SALE = "sale";
  static final String SUBSCRIBE = "subscribe";
  static final String RENEWAL = "renewal";
  static final String REFUND = "refund";
  private static final long MAX_UNIX_SECONDS = 100_000_000_000L;

  static ProviderEvent ignored(String eventId, String eventType, String why) {
    return new ProviderEvent(eventId, eventType, List.of(), why, null);
  }

  static ProviderEvent one(String eventId, String eventType, ConversionDraft draft) {
    return new ProviderEvent(eventId, eventType, List.of(draft), null, null);
  }

  static ProviderEvent of(String eventId, String eventType, List<ConversionDraft> drafts, String whyIfNone) {
    return drafts.isEmpty() ? ignored(eventId, eventType, whyIfNone)
        : new ProviderEvent(eventId, eventType, drafts, null, null);
  }

  // Defensive readers: providers add fields and change shapes across API versions.

  static JsonObject object(JsonObject json, String... path) {
    JsonObject at = json;
    for (String key : path) {
      if (at == null || !(at.getValue(key) instanceof JsonObject next)) {
        return null;
      }
      at = next;
    }
    return at;
  }

  static JsonArray array(JsonObject json, String key) {
    return json != null && json.getValue(key) instanceof JsonArray a ? a : null;
  }

  static String text(JsonObject json, String key) {
    return json != null && json.getValue(key) instanceof String s && !s.isEmpty() ? s : null;
  }

  static Long number(JsonObject json, String key) {
    return json != null && (json.getValue(key) instanceof Integer || json.getValue(key) instanceof Long)
        ? ((Number) json.getValue(key)).longValue() : null;
  }

  /** A Unix-seconds timestamp as ISO-8601 text for ConversionDraft#occurredAt, or null. */
  static String instant(Long unixSeconds) {
    // Out of range reads as absent: the conversion then occurred when the gateway received it.
    return unixSeconds == null || unixSeconds < 0 || unixSeconds > MAX_UNIX_SECONDS ? null
        : Instant.ofEpochSecond(unixSeconds).toString();
  }

  static String firstNonNull(String a, String b) {
    return a != null ? a : b;
  }

  static String upper(String currency) {
    return currency == null ? null : currency.toUpperCase(Locale.ROOT);
  }
}
