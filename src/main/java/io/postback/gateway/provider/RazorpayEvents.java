package io.postback.gateway.provider;

import io.postback.gateway.ingest.ConversionDraft;
import io.vertx.core.json.JsonObject;

import java.util.List;

import static io.postback.gateway.provider.ProviderEvent.firstNonNull;
import static io.postback.gateway.provider.ProviderEvent.instant;
import static io.postback.gateway.provider.ProviderEvent.number;
import static io.postback.gateway.provider.ProviderEvent.object;
import static io.postback.gateway.provider.ProviderEvent.text;
import static io.postback.gateway.provider.ProviderEvent.upper;

/**
 * Maps Razorpay webhook events to conversions and refunds (docs/payment-providers.md).
 * {@code payment.captured} and {@code order.paid} both carry the payment entity and are keyed by the
 * payment id ({@code pay_...}), so one payment reported by both is one conversion; {@code refund.processed}
 * is a refund keyed by the refund id ({@code rfnd_...}) of that payment. The click comes from the
 * payment's (else the order's) {@code notes.clickId}, a promo code from {@code notes.promoCode}.
 */
final class RazorpayEvents {

  private RazorpayEvents() {
  }

  /** {@code eventId}: the x-razorpay-event-id header (Razorpay's payload carries no event id). */
  static ProviderEvent map(String eventId, JsonObject event) {
    String type = text(event, "event");
    if (type == null) {
      return ProviderEvent.ignored(eventId, null, "not a Razorpay event (no event field)");
    }
    return switch (type) {
      case "payment.captured", "order.paid" -> payment(eventId, type, event);
      case "refund.processed" -> refund(eventId, type, event);
      default -> ProviderEvent.ignored(eventId, type, "event type not mapped");
    };
  }

  private static ProviderEvent payment(String eventId, String type, JsonObject event) {
    JsonObject payment = object(event, "payload", "payment", "entity");
    JsonObject order = object(event, "payload", "order", "entity");
    if (payment == null && order == null) {
      return ProviderEvent.ignored(eventId, type, "the event carries no payment");
    }
    // Razorpay sends notes as an object, or as an empty array when there are none (read as absent).
    JsonObject notes = object(payment, "notes");
    JsonObject orderNotes = object(order, "notes");
    ConversionDraft d = new ConversionDraft();
    d.eventType = ProviderEvent.SALE;
    d.externalId = payment != null ? text(payment, "id") : text(order, "id");
    d.grossMinor = payment != null ? number(payment, "amount") : number(order, "amount_paid");
    d.currency = upper(text(payment != null ? payment : order, "currency"));
    d.occurredAt = instant(number(payment != null ? payment : order, "created_at"));
    d.clickId = firstNonNull(text(notes, "clickId"), text(orderNotes, "clickId"));
    d.promoCode = firstNonNull(text(notes, "promoCode"), text(orderNotes, "promoCode"));
    JsonObject metadata = new JsonObject().put("razorpayEventId", eventId);
    if (order != null || text(payment, "order_id") != null) {
      metadata.put("razorpayOrder", order != null ? text(order, "id") : text(payment, "order_id"));
    }
    d.customerId = text(payment, "customer_id");
    d.metadata = metadata.encode();
    return ProviderEvent.one(eventId, type, d);
  }

  private static ProviderEvent refund(String eventId, String type, JsonObject event) {
    JsonObject refund = object(event, "payload", "refund", "entity");
    if (refund == null) {
      return ProviderEvent.ignored(eventId, type, "the event carries no refund");
    }
    ConversionDraft d = new ConversionDraft();
    d.eventType = ProviderEvent.REFUND;
    d.externalId = text(refund, "id");
    d.refundOf = text(refund, "payment_id");
    d.grossMinor = number(refund, "amount");
    d.currency = upper(text(refund, "currency"));
    d.occurredAt = instant(number(refund, "created_at"));
    d.metadata = new JsonObject().put("razorpayEventId", eventId).encode();
    return ProviderEvent.one(eventId, type, d);
  }
}
