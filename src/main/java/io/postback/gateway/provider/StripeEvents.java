package io.postback.gateway.provider;

import io.postback.gateway.ingest.ConversionDraft;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

import static io.postback.gateway.provider.ProviderEvent.array;
import static io.postback.gateway.provider.ProviderEvent.firstNonNull;
import static io.postback.gateway.provider.ProviderEvent.instant;
import static io.postback.gateway.provider.ProviderEvent.number;
import static io.postback.gateway.provider.ProviderEvent.object;
import static io.postback.gateway.provider.ProviderEvent.text;
import static io.postback.gateway.provider.ProviderEvent.upper;

/**
 * Maps Stripe webhook events to conversions and refunds (the table in docs/payment-providers.md).
 *
 * <p>Keys, chosen so that every event reporting one payment lands on one conversion:
 * <ul>
 *   <li>a one-off Checkout payment: its payment intent ({@code pi_...});</li>
 *   <li>a subscription invoice (first or renewal): the invoice id ({@code in_...}), which both
 *   {@code checkout.session.completed} (subscription mode) and {@code invoice.paid} carry; the invoice's
 *   payment intent is reported ({@link ProviderEvent#paidBy}) so that refunds, which name the payment
 *   intent, find it;</li>
 *   <li>a refund: Stripe's refund id ({@code re_...}), from {@code refund.created} or from each entry of
 *   {@code charge.refunded}'s {@code refunds.data}, so one refund reported by both is recorded once;</li>
 *   <li>a dispute: the dispute id ({@code dp_...}), recorded as a refund of the disputed amount.</li>
 * </ul>
 * Invoice shapes: the current API (2025-03-31.basil and later: {@code parent.subscription_details},
 * {@code payments.data[].payment.payment_intent}) and the one before it ({@code subscription},
 * {@code subscription_details}, {@code payment_intent}).
 */
final class StripeEvents {
  private StripeEvents() {
  }

  static ProviderEvent map(JsonObject event) {
    String id = text(event, "id");
    String type = text(event, "type");
    JsonObject object = object(event, "data", "object");
    if (type == null || object == null) {
      return ProviderEvent.ignored(id, type, "not a Stripe event (no type or data.object)");
    }
    return switch (type) {
      case "checkout.session.completed", "checkout.session.async_payment_succeeded" ->
          checkout(id, type, object, number(event, "created"));
      case "invoice.paid" -> invoice(id, type, object);
      case "refund.created" -> ProviderEvent.of(id, type, refund(id, object, null), "the refund failed or was canceled");
      case "charge.refunded" -> chargeRefunded(id, type, object);
      case "charge.dispute.created" -> dispute(id, type, object);
      default -> ProviderEvent.ignored(id, type, "event type not mapped");
    };
  }

  /** {@code created}: the event's time, i.e. when the payment completed (the session's own is when it opened). */
  private static ProviderEvent checkout(String eventId, String type, JsonObject session, Long created) {
    String mode = text(session, "mode");
    if (!"payment".equals(mode) && !"subscription".equals(mode)) {
      return ProviderEvent.ignored(eventId, type, "a Checkout session in " + mode + " mode takes no payment");
    }
    if ("unpaid".equals(text(session, "payment_status"))) {
      // Delayed payment methods: checkout.session.async_payment_succeeded reports the payment.
      return ProviderEvent.ignored(eventId, type, "not paid yet");
    }
    boolean subscription = "subscription".equals(mode);
    String paymentIntent = text(session, "payment_intent");
    String invoice = text(session, "invoice");
    ConversionDraft d = new ConversionDraft();
    d.eventType = subscription ? ProviderEvent.SUBSCRIBE : ProviderEvent.SALE;
    d.externalId = subscription ? firstNonNull(invoice, text(session, "id")) : firstNonNull(paymentIntent, text(session, "id"));
    d.grossMinor = number(session, "amount_total");
    d.occurredAt = instant(created);
    d.currency = upper(text(session, "currency"));
    d.clickId = firstNonNull(text(session, "client_reference_id"), text(object(session, "metadata"), "clickId"));
    d.promoCode = promotionCode(array(session, "discounts"));
    d.customerId = text(session, "customer");
    d.metadata = metadata(eventId, paymentIntent, invoice).encode();
    return ProviderEvent.one(eventId, type, d);
  }

  private static ProviderEvent invoice(String eventId, String type, JsonObject invoice) {
    Long paid = number(invoice, "amount_paid");
    if (paid == null || paid == 0) {
      return ProviderEvent.ignored(eventId, type, "nothing was paid (e.g. a trial invoice)");
    }
    // Current shape (basil and later) first, then the previous one.
    JsonObject subscription = object(invoice, "parent", "subscription_details");
    if (subscription == null) {
      subscription = object(invoice, "subscription_details");
    }
    String paymentIntent = text(invoice, "payment_intent");
    JsonArray payments = array(object(invoice, "payments"), "data");
    if (paymentIntent == null && payments != null) {
      for (Object p : payments) {
        if (p instanceof JsonObject payment && (paymentIntent = text(object(payment, "payment"), "payment_intent")) != null) {
          break;
        }
      }
    }
    ConversionDraft d = new ConversionDraft();
    d.eventType = "subscription_create".equals(text(invoice, "billing_reason")) ? ProviderEvent.SUBSCRIBE
        : ProviderEvent.RENEWAL;
    d.externalId = text(invoice, "id");
    d.grossMinor = paid;
    d.currency = upper(text(invoice, "currency"));
    d.occurredAt = instant(number(object(invoice, "status_transitions"), "paid_at"));
    d.clickId = firstNonNull(text(object(subscription, "metadata"), "clickId"), text(object(invoice, "metadata"), "clickId"));
    d.promoCode = promotionCode(array(invoice, "discounts"));
    d.customerId = text(invoice, "customer");
    d.metadata = metadata(eventId, paymentIntent, d.externalId).encode();
    return new ProviderEvent(eventId, type, List.of(d), null,
        paymentIntent == null || d.externalId == null ? null : new ProviderEvent.PaidBy(paymentIntent, d.externalId));
  }

  private static ProviderEvent chargeRefunded(String eventId, String type, JsonObject charge) {
    // Since API 2022-11-15 a charge no longer embeds its refunds: then refund.created reports each one.
    JsonArray refunds = array(object(charge, "refunds"), "data");
    if (refunds == null) {
      return ProviderEvent.ignored(eventId, type, "the charge lists no refunds: refund.created reports them");
    }
    List<ConversionDraft> drafts = new ArrayList<>();
    for (Object r : refunds) {
      if (r instanceof JsonObject refund) {
        drafts.addAll(refund(eventId, refund, text(charge, "payment_intent")));
      }
    }
    return ProviderEvent.of(eventId, type, drafts, "no refund to record");
  }

  /** One refund, or none when it failed or was canceled. */
  private static List<ConversionDraft> refund(String eventId, JsonObject refund, String chargePaymentIntent) {
    String status = text(refund, "status");
    if ("failed".equals(status) || "canceled".equals(status)) {
      return List.of();
    }
    ConversionDraft d = new ConversionDraft();
    d.eventType = ProviderEvent.REFUND;
    d.externalId = text(refund, "id");
    d.refundOf = firstNonNull(text(refund, "payment_intent"), chargePaymentIntent);
    d.grossMinor = number(refund, "amount");
    d.currency = upper(text(refund, "currency"));
    d.occurredAt = instant(number(refund, "created"));
    d.metadata = new JsonObject().put("stripeEventId", eventId).put("stripeCharge", text(refund, "charge")).encode();
    return List.of(d);
  }

  private static ProviderEvent dispute(String eventId, String type, JsonObject dispute) {
    ConversionDraft d = new ConversionDraft();
    d.eventType = ProviderEvent.REFUND;
    d.externalId = text(dispute, "id");
    d.refundOf = text(dispute, "payment_intent");
    d.grossMinor = number(dispute, "amount");
    d.currency = upper(text(dispute, "currency"));
    d.occurredAt = instant(number(dispute, "created"));
    d.metadata = new JsonObject().put("stripeEventId", eventId).put("stripeDisputeReason", text(dispute, "reason"))
        .put("stripeCharge", text(dispute, "charge")).encode();
    return ProviderEvent.one(eventId, type, d);
  }

  /**
   * The applied discount's promotion code: the customer-facing code when Stripe expanded it, else its id
   * ({@code promo_...}); a tracking link's promoCode may hold either.
   */
  private static String promotionCode(JsonArray discounts) {
    if (discounts == null) {
      return null;
    }
    for (Object entry : discounts) {
      if (entry instanceof JsonObject discount) {
        Object promo = discount.getValue("promotion_code");
        if (promo instanceof JsonObject expanded && text(expanded, "code") != null) {
          return text(expanded, "code");
        }
        if (promo instanceof String id && !id.isEmpty()) {
          return id;
        }
      }
    }
    return null;
  }

  private static JsonObject metadata(String eventId, String paymentIntent, String invoice) {
    JsonObject m = new JsonObject().put("stripeEventId", eventId);
    if (paymentIntent != null) {
      m.put("stripePaymentIntent", paymentIntent);
    }
    if (invoice != null) {
      m.put("stripeInvoice", invoice);
    }
    return m;
  }
}
