package io.postback.gateway.provider;

import io.postback.gateway.ingest.ConversionDraft;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static io.postback.gateway.provider.PaymentProviderWebhooksTest.checkoutSession;
import static io.postback.gateway.provider.PaymentProviderWebhooksTest.event;
import static org.assertj.core.api.Assertions.assertThat;

/** What the provider events that record nothing, or read oddly shaped payloads, are answered with. */
class ProviderEventMappingTest {

  @Test
  void checkoutSessionsThatTakeNoPaymentYetRecordNothing() {
    assertThat(StripeEvents.map(event("checkout.session.completed", checkoutSession("pi_1", 100, null)
        .put("mode", "setup"))).ignored()).contains("setup mode");
    assertThat(StripeEvents.map(event("checkout.session.completed", checkoutSession("pi_1", 100, null)
        .put("payment_status", "unpaid"))).ignored()).isEqualTo("not paid yet");
    // The delayed payment, when it succeeds, is the sale.
    ProviderEvent async = StripeEvents.map(event("checkout.session.async_payment_succeeded",
        checkoutSession("pi_1", 100, null)));
    assertThat(async.drafts()).singleElement().satisfies(d -> assertThat(d.externalId).isEqualTo("pi_1"));
  }

  @Test
  void aTrialInvoiceThatPaysNothingRecordsNothing() {
    assertThat(StripeEvents.map(event("invoice.paid", PaymentProviderWebhooksTest.currentInvoice("in_1", null, 0,
        "subscription_create", null))).ignored()).contains("nothing was paid");
  }

  @Test
  void aChargeThatNoLongerEmbedsItsRefundsLeavesThemToRefundCreated() {
    ProviderEvent e = StripeEvents.map(event("charge.refunded", new JsonObject().put("id", "ch_1")
        .put("object", "charge").put("payment_intent", "pi_1").put("amount_refunded", 100)));
    assertThat(e.drafts()).isEmpty();
    assertThat(e.ignored()).contains("refund.created");
  }

  @Test
  void failedAndCanceledRefundsClawNothingBack() {
    JsonObject charge = new JsonObject().put("id", "ch_1").put("object", "charge").put("payment_intent", "pi_1")
        .put("refunds", new JsonObject().put("data", new JsonArray()
            .add(new JsonObject().put("id", "re_failed").put("amount", 100).put("status", "failed"))
            .add(new JsonObject().put("id", "re_ok").put("amount", 50).put("currency", "eur").put("status", "pending"))));
    assertThat(StripeEvents.map(event("charge.refunded", charge)).drafts()).singleElement().satisfies(d -> {
      assertThat(d.externalId).isEqualTo("re_ok");
      assertThat(d.refundOf).isEqualTo("pi_1");
      assertThat(d.currency).isEqualTo("EUR");
    });
  }

  @Test
  void fieldsOfAnUnexpectedTypeReadAsAbsent() {
    JsonObject session = checkoutSession("pi_1", 100, null).put("amount_total", "100").put("client_reference_id", 42)
        .put("discounts", "none").put("metadata", new JsonArray());
    ConversionDraft d = StripeEvents.map(event("checkout.session.completed", session)).drafts().get(0);
    assertThat(d.grossMinor).isNull();
    assertThat(d.clickId).isNull();
    assertThat(d.promoCode).isNull();
    assertThat(StripeEvents.map(new JsonObject().put("type", "invoice.paid").put("data", "x")).ignored())
        .contains("not a Stripe event");
  }

  @Test
  void razorpayNotesSentAsAnEmptyArrayMeanNoNotes() {
    ConversionDraft d = RazorpayEvents.map("evt_1",
        PaymentProviderWebhooksTest.razorpayEvent("payment.captured", "pay_1", 100, null)).drafts().get(0);
    assertThat(d.externalId).isEqualTo("pay_1");
    assertThat(d.clickId).isNull();
    assertThat(RazorpayEvents.map("evt_2", new JsonObject().put("event", "payment.failed")).ignored())
        .isEqualTo("event type not mapped");
  }
}
