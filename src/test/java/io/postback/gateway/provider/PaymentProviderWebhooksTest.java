package io.postback.gateway.provider;

import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.PaymentProvidersNode;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 12: a surface receives Stripe's and Razorpay's own signed webhooks (signed here by the providers'
 * own libraries, payloads shaped like their documented examples) and they become conversions and refunds
 * with attribution, commission and clawback.
 */
class PaymentProviderWebhooksTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();
  private static final AtomicInteger IDS = new AtomicInteger();
  private static final String STRIPE_SECRET = "whsec_test_5f1c9e0b2a7d4c3e8f6a1b0c9d8e7f6a";
  private static final String RAZORPAY_SECRET = "rzp_webhook_secret_0123456789";

  private GatewayClient client;
  private TestSurface surface;
  private String affiliate;
  private String linkCode;

  @BeforeEach
  void program() {
    client = gateway.client();
    surface = client.createSurface();
    affiliate = client.createAffiliate("active");
    linkCode = client.createLink(surface, affiliate, "https://shop.example/", "SPRING");
    // 10 % of the gross on one-off sales and on subscriptions' first invoices.
    client.createRule(surface, "sale", null, 1000, null);
    client.createRule(surface, "subscribe", null, 1000, null);
    assertThat(putSecret("stripe", STRIPE_SECRET, null).status()).isEqualTo(200);
    assertThat(putSecret("razorpay", RAZORPAY_SECRET, null).status()).isEqualTo(200);
  }

  @Test
  void checkoutSessionCompletedIsAnAttributedConversionWithCommission() {
    String click = client.click(linkCode);
    String pi = id("pi");

    Reply r = stripe(event("checkout.session.completed", checkoutSession(pi, 10_000, click)));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("status")).isEqualTo("attributed");
    assertThat(r.json().getString("affiliateId")).isEqualTo(affiliate);
    assertThat(r.json().getLong("commissionMinor")).isEqualTo(1_000);
    assertThat(r.json().getString("currency")).isEqualTo("USD");
    assertThat(TestBackends.queryLong("SELECT gross_minor FROM conversions WHERE surface_id = ? AND external_id = ? "
        + "AND currency = 'USD' AND event_type = 'sale'", surface.id(), pi)).isEqualTo(10_000);
    assertThat(owed()).isEqualTo(1_000);
    JsonObject logged = lastLogEntry();
    assertThat(logged.getString("form")).isEqualTo("stripe");
    assertThat(logged.getString("eventType")).isEqualTo("checkout.session.completed");
    assertThat(logged.getString("outcome")).isEqualTo("attributed");
  }

  @Test
  void refundsClawBackProRataAndARefundReportedTwiceIsCountedOnce() {
    String pi = id("pi");
    stripe(event("checkout.session.completed", checkoutSession(pi, 10_000, null).put("discounts",
        new JsonArray().add(new JsonObject().put("coupon", "co_1").put("promotion_code",
            new JsonObject().put("id", "promo_1").put("code", "SPRING"))))));
    assertThat(owed()).isEqualTo(1_000);

    // A partial refund reported by refund.created ...
    JsonObject partial = refund(id("re"), pi, 3_000);
    Reply first = stripe(event("refund.created", partial));
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.json().getLong("commissionMinor")).isEqualTo(-300);
    assertThat(owed()).isEqualTo(700);

    // ... and again, with the rest refunded, by charge.refunded listing both refunds.
    JsonObject rest = refund(id("re"), pi, 7_000);
    Reply charge = stripe(event("charge.refunded", new JsonObject().put("id", id("ch")).put("object", "charge")
        .put("amount", 10_000).put("amount_refunded", 10_000).put("currency", "usd").put("payment_intent", pi)
        .put("refunded", true).put("refunds", new JsonObject().put("object", "list").put("has_more", false)
            .put("data", new JsonArray().add(rest).add(partial)))));

    assertThat(charge.status()).isEqualTo(200);
    JsonArray items = charge.json().getJsonArray("items");
    assertThat(items.getJsonObject(0).getLong("commissionMinor")).isEqualTo(-700);
    assertThat(items.getJsonObject(1).getBoolean("duplicate")).isTrue();
    assertThat(owed()).isZero();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND refund_of = ?",
        surface.id(), pi)).isEqualTo(2);
  }

  @Test
  void aDisputeClawsBackLikeARefundOfTheDisputedAmount() {
    String pi = id("pi");
    stripe(event("checkout.session.completed", checkoutSession(pi, 10_000, client.click(linkCode))));

    Reply r = stripe(event("charge.dispute.created", new JsonObject().put("id", id("dp")).put("object", "dispute")
        .put("amount", 10_000).put("currency", "usd").put("charge", id("ch")).put("payment_intent", pi)
        .put("reason", "fraudulent").put("status", "needs_response").put("created", now())));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("status")).isEqualTo("refunded");
    assertThat(owed()).isZero();
  }

  @Test
  void aRedeliveredEventAndTwoEventsForOnePaymentRecordOneConversion() {
    String click = client.click(linkCode);
    String invoice = id("in");
    JsonObject checkout = event("checkout.session.completed", checkoutSession(null, 5_000, click)
        .put("mode", "subscription").put("invoice", invoice).put("subscription", id("sub")));

    String pi = id("pi");
    Reply once = stripe(checkout);
    Reply again = stripe(checkout);
    Reply invoicePaid = stripe(event("invoice.paid", currentInvoice(invoice, pi, 5_000, "subscription_create", null)));

    assertThat(once.json().getBoolean("duplicate")).isFalse();
    assertThat(again.status()).isEqualTo(200);
    assertThat(again.json().getBoolean("duplicate")).isTrue();
    assertThat(again.json().getString("conversionId")).isEqualTo(once.json().getString("conversionId"));
    assertThat(invoicePaid.json().getBoolean("duplicate")).isTrue();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", surface.id())).isEqualTo(1);
    assertThat(owed()).isEqualTo(500);
    // The invoice's payment intent, first seen in the duplicate invoice.paid, still leads its refund home.
    assertThat(stripe(event("refund.created", refund(id("re"), pi, 5_000))).json().getLong("commissionMinor"))
        .isEqualTo(-500);
  }

  @Test
  void anyV1SignatureInTheHeaderMayMatch() {
    String body = event("checkout.session.completed", checkoutSession(id("pi"), 1_000, null)).encode();
    String header = PaymentProvidersNode.stripeSignature(STRIPE_SECRET, now(), body);
    String t = header.substring(0, header.indexOf(','));
    String v1 = header.substring(header.indexOf("v1="));

    Reply r = send("stripe", body, "stripe-signature", t + ",v1=" + "ab".repeat(32) + "," + v1 + ",v0=" + "cd".repeat(32));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("status")).isEqualTo("unattributed");
  }

  @Test
  void subscriptionInvoicesOfTheCurrentAndThePreviousApiShapeAreRecordedAndRefundable() {
    String click = client.click(linkCode);
    String currentPi = id("pi");
    String previousPi = id("pi");
    Reply current = stripe(event("invoice.paid", currentInvoice(id("in"), currentPi, 2_000, "subscription_create", click)));
    Reply previous = stripe(event("invoice.paid", previousInvoice(id("in"), previousPi, 3_000, "subscription_create", click)));
    assertThat(current.json().getLong("commissionMinor")).isEqualTo(200);
    assertThat(previous.json().getLong("commissionMinor")).isEqualTo(300);

    // Refunds name the payment intent; the invoices' conversions are found through it.
    assertThat(stripe(event("refund.created", refund(id("re"), currentPi, 2_000))).json().getLong("commissionMinor"))
        .isEqualTo(-200);
    assertThat(stripe(event("refund.created", refund(id("re"), previousPi, 3_000))).json().getLong("commissionMinor"))
        .isEqualTo(-300);
    assertThat(owed()).isZero();
  }

  @Test
  void aRenewalInsideRecurringMonthsEarnsForTheReferrerWithoutAClickAndOutsideDoesNot() {
    // Renewals pay 10 % for 12 months after the customer's first attributed conversion.
    assertThat(client.admin("POST", "/admin/commission-rules", new JsonObject().put("surfaceId", surface.id())
        .put("eventType", "renewal").put("percentBps", 1000).put("recurringMonths", 12)).status()).isEqualTo(201);
    String recent = id("cus");
    String longAgo = id("cus");
    // First conversions through the signed JSON postback, which names the customer too (SPEC §3.1 customerId).
    assertThat(firstConversion(recent, Instant.now().minus(Duration.ofDays(60))).getString("affiliateId")).isEqualTo(affiliate);
    assertThat(firstConversion(longAgo, Instant.now().minus(Duration.ofDays(400))).getString("affiliateId")).isEqualTo(affiliate);

    Reply inside = stripe(event("invoice.paid", currentInvoice(id("in"), id("pi"), 4_000, "subscription_cycle", null)
        .put("customer", recent)));
    Reply outside = stripe(event("invoice.paid", previousInvoice(id("in"), id("pi"), 4_000, "subscription_cycle", null)
        .put("customer", longAgo)));

    assertThat(inside.json().getString("status")).isEqualTo("attributed");
    assertThat(inside.json().getString("affiliateId")).isEqualTo(affiliate);
    assertThat(inside.json().getLong("commissionMinor")).isEqualTo(400);
    assertThat(outside.json().getString("status")).isEqualTo("unattributed");
    assertThat(outside.json().getLong("commissionMinor")).isZero();

    // recurringMonths 0: for the customer's lifetime.
    client.admin("POST", "/admin/commission-rules", new JsonObject().put("surfaceId", surface.id())
        .put("eventType", "renewal").put("percentBps", 1000).put("recurringMonths", 0));
    Reply lifetime = stripe(event("invoice.paid", currentInvoice(id("in"), id("pi"), 4_000, "subscription_cycle", null)
        .put("customer", longAgo)));
    assertThat(lifetime.json().getString("affiliateId")).isEqualTo(affiliate);
    assertThat(lifetime.json().getLong("commissionMinor")).isEqualTo(400);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM events WHERE type = 'conversion.created' AND surface_id = ? "
        + "AND data->>'customerId' = ?", surface.id(), longAgo)).isEqualTo(3);
  }

  @Test
  void aRenewalUnderAOneOffRuleEarnsNothingWithoutAClick() {
    client.createRule(surface, "renewal", null, 1000, null);
    String customer = id("cus");
    firstConversion(customer, Instant.now().minus(Duration.ofDays(10)));

    Reply renewal = stripe(event("invoice.paid", currentInvoice(id("in"), id("pi"), 4_000, "subscription_cycle", null)
        .put("customer", customer)));

    assertThat(renewal.json().getString("status")).isEqualTo("unattributed");
  }

  @Test
  void aPostbacksCustomerIdFollowsTheRulesOfTheOtherIds() {
    for (String bad : new String[] {"", "x".repeat(129), "tab\there", 42 + ""}) {
      JsonObject body = new JsonObject().put("externalId", id("order")).put("eventType", "signup");
      body.put("customerId", bad.equals("42") ? (Object) 42 : bad);
      Reply r = client.postback(surface, body.encode());
      assertThat(r.status()).as(bad).isEqualTo(400);
      assertThat(r.json().getString("field")).as(bad).isEqualTo("customerId");
    }
  }

  JsonObject firstConversion(String customer, Instant occurredAt) {
    Reply r = client.postback(surface, new JsonObject().put("externalId", id("order")).put("eventType", "subscribe")
        .put("grossMinor", 4_000).put("currency", "USD").put("promoCode", "SPRING").put("customerId", customer)
        .put("occurredAt", occurredAt.toString()).encode());
    assertThat(r.status()).isEqualTo(200);
    return r.json();
  }

  @Test
  void anUnmappedEventTypeIsAnsweredIgnoredSoTheProviderStopsRetrying() {
    Reply r = stripe(event("customer.created", new JsonObject().put("id", id("cus")).put("object", "customer")));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("status")).isEqualTo("ignored");
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", surface.id())).isZero();
    assertThat(lastLogEntry().getString("outcome")).isEqualTo("ignored");
    assertThat(metric("gateway_provider_events_total{outcome=\"ignored\",provider=\"stripe\"}")).isPositive();
  }

  @Test
  void theSurfacesRateLimitHoldsForProviderWebhooksToo() {
    assertThat(client.admin("PATCH", "/admin/surfaces/" + surface.id(),
        new JsonObject().put("rateLimitPerSecond", 1).put("rateLimitBurst", 1)).status()).isEqualTo(200);
    int accepted = 0;
    int limited = 0;
    for (int i = 0; i < 4; i++) {
      Reply r = stripe(event("checkout.session.completed", checkoutSession(id("pi"), 1_000, null)));
      if (r.status() == 200) {
        accepted++;
      } else {
        assertThat(r.status()).isEqualTo(429);
        assertThat(r.json().getString("error")).isEqualTo("rate_limited");
        assertThat(r.retryAfter()).isNotNull();
        limited++;
      }
    }
    assertThat(limited).as("a burst of 1 at 1/s cannot take four events sent back to back").isPositive();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", surface.id()))
        .as("only the admitted events are recorded").isEqualTo(accepted);
    assertThat(metric("gateway_provider_events_total{outcome=\"rate_limited\",provider=\"stripe\"}")).isPositive();
  }

  @Test
  void staleOrForgedSignaturesAreRefusedWith400() {
    JsonObject sale = event("checkout.session.completed", checkoutSession(id("pi"), 1_000, null));
    String body = sale.encode();
    long now = now();

    Reply stale = send("stripe", body, "stripe-signature", PaymentProvidersNode.stripeSignature(STRIPE_SECRET, now - 600, body));
    Reply otherSecret = send("stripe", body, "stripe-signature",
        PaymentProvidersNode.stripeSignature("whsec_not_the_surfaces", now, body));
    Reply tampered = send("stripe", body.replace("1000", "9000"), "stripe-signature",
        PaymentProvidersNode.stripeSignature(STRIPE_SECRET, now, body));
    Reply missing = send("stripe", body);
    Reply razorpayForged = send("razorpay", razorpayEvent("payment.captured", id("pay"), 100, null).encode(),
        "x-razorpay-signature", "0".repeat(64));

    for (Reply r : new Reply[] {stale, otherSecret, tampered, missing, razorpayForged}) {
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.error()).isEqualTo("bad_signature");
    }
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", surface.id())).isZero();
    assertThat(lastLogEntry().getString("error")).isEqualTo("bad_signature");
    assertThat(metric("gateway_provider_events_total{outcome=\"bad_signature\",provider=\"stripe\"}")).isGreaterThanOrEqualTo(4);
  }

  @Test
  void duringARotationBothSecretsVerifyAndAfterItOnlyTheNewOne() {
    String old = STRIPE_SECRET;
    String next = "whsec_next_0a1b2c3d4e5f";
    putSecret("stripe", next, null);

    assertThat(stripeSignedWith(old, event("checkout.session.completed", checkoutSession(id("pi"), 100, null))).status())
        .isEqualTo(200);
    assertThat(stripeSignedWith(next, event("checkout.session.completed", checkoutSession(id("pi"), 100, null))).status())
        .isEqualTo(200);

    putSecret("stripe", "whsec_third", 0L);
    assertThat(stripeSignedWith(next, event("checkout.session.completed", checkoutSession(id("pi"), 100, null))).status())
        .isEqualTo(400);
  }

  @Test
  void razorpayPaymentCapturedAndOrderPaidAreOneConversionAndARefundClawsBack() {
    client.createRule(surface, "sale", null, 1000, null);
    String click = client.click(linkCode);
    String payment = id("pay");

    Reply captured = razorpay(razorpayEvent("payment.captured", payment, 50_000, click), id("evt"));
    JsonObject orderPaid = razorpayEvent("order.paid", payment, 50_000, click);
    orderPaid.getJsonObject("payload").put("order", new JsonObject().put("entity", new JsonObject()
        .put("id", "order_" + payment).put("entity", "order").put("amount", 50_000).put("amount_paid", 50_000)
        .put("currency", "INR").put("status", "paid").put("notes", new JsonArray())));
    Reply paid = razorpay(orderPaid, id("evt"));

    assertThat(captured.status()).isEqualTo(200);
    assertThat(captured.json().getString("affiliateId")).isEqualTo(affiliate);
    assertThat(captured.json().getLong("commissionMinor")).isEqualTo(5_000);
    assertThat(captured.json().getString("currency")).isEqualTo("INR");
    assertThat(paid.json().getBoolean("duplicate")).isTrue();
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", surface.id())).isEqualTo(1);

    JsonObject refund = new JsonObject().put("entity", "event").put("event", "refund.processed")
        .put("contains", new JsonArray().add("refund").add("payment")).put("created_at", now())
        .put("payload", new JsonObject().put("refund", new JsonObject().put("entity", new JsonObject()
            .put("id", id("rfnd")).put("entity", "refund").put("amount", 20_000).put("currency", "INR")
            .put("payment_id", payment).put("status", "processed").put("created_at", now()))));
    Reply refunded = razorpay(refund, id("evt"));

    assertThat(refunded.status()).isEqualTo(200);
    assertThat(refunded.json().getLong("commissionMinor")).isEqualTo(-2_000);
    assertThat(owed()).isEqualTo(3_000);
  }

  @Test
  void adminShowsWhichProvidersAreConfiguredNeverTheSecretAndDeleteRemovesOne() {
    Reply list = client.admin("GET", "/admin/surfaces/" + surface.id() + "/providers", null);
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.json().getJsonArray("items").stream().map(o -> ((JsonObject) o).getString("provider")))
        .containsExactly("razorpay", "stripe");
    assertThat(list.body()).doesNotContain(STRIPE_SECRET).doesNotContain(RAZORPAY_SECRET);

    assertThat(client.admin("DELETE", "/admin/surfaces/" + surface.id() + "/providers/stripe", null).status()).isEqualTo(200);

    Reply after = stripe(event("checkout.session.completed", checkoutSession(id("pi"), 100, null)));
    assertThat(after.status()).isEqualTo(404);
    assertThat(after.error()).isEqualTo("provider_not_configured");
    assertThat(client.admin("PUT", "/admin/surfaces/no-such-surface/providers/stripe",
        new JsonObject().put("webhookSecret", "whsec_x")).status()).isEqualTo(404);
    assertThat(client.admin("GET", "/admin/surfaces/no-such-surface/providers", null).status()).isEqualTo(404);
  }

  // --- payloads shaped like the providers' documented examples ---

  static JsonObject event(String type, JsonObject object) {
    return new JsonObject().put("id", id("evt")).put("object", "event").put("api_version", "2025-03-31.basil")
        .put("created", now()).put("livemode", false).put("pending_webhooks", 1)
        .put("request", new JsonObject().putNull("id").putNull("idempotency_key")).put("type", type)
        .put("data", new JsonObject().put("object", object));
  }

  static JsonObject checkoutSession(String paymentIntent, long amount, String clickId) {
    return new JsonObject().put("id", id("cs_test")).put("object", "checkout.session").put("amount_subtotal", amount)
        .put("amount_total", amount).put("client_reference_id", clickId).put("currency", "usd")
        .put("customer", id("cus")).put("discounts", new JsonArray()).putNull("invoice").put("metadata", new JsonObject())
        .put("mode", "payment").put("payment_intent", paymentIntent).put("payment_status", "paid")
        .put("status", "complete").putNull("subscription");
  }

  static JsonObject refund(String id, String paymentIntent, long amount) {
    return new JsonObject().put("id", id).put("object", "refund").put("amount", amount).put("charge", id("ch"))
        .put("created", now()).put("currency", "usd").put("payment_intent", paymentIntent)
        .put("reason", "requested_by_customer").put("status", "succeeded");
  }

  /** An invoice as API versions from 2025-03-31.basil send it: parent.subscription_details, payments. */
  static JsonObject currentInvoice(String id, String paymentIntent, long amount, String billingReason, String clickId) {
    return new JsonObject().put("id", id).put("object", "invoice").put("amount_due", amount).put("amount_paid", amount)
        .put("billing_reason", billingReason).put("currency", "usd").put("customer", "cus_subscriber")
        .put("discounts", new JsonArray()).put("status", "paid")
        .put("status_transitions", new JsonObject().put("paid_at", now()))
        .put("parent", new JsonObject().put("type", "subscription_details").put("subscription_details",
            new JsonObject().put("subscription", "sub_1").put("metadata", clickId == null ? new JsonObject()
                : new JsonObject().put("clickId", clickId))))
        .put("payments", new JsonObject().put("object", "list").put("data", new JsonArray().add(new JsonObject()
            .put("id", id("inpay")).put("object", "invoice_payment").put("status", "paid")
            .put("payment", new JsonObject().put("type", "payment_intent").put("payment_intent", paymentIntent)))));
  }

  /** An invoice as the API versions before basil send it: subscription, subscription_details, payment_intent. */
  static JsonObject previousInvoice(String id, String paymentIntent, long amount, String billingReason, String clickId) {
    return new JsonObject().put("id", id).put("object", "invoice").put("amount_due", amount).put("amount_paid", amount)
        .put("billing_reason", billingReason).put("currency", "usd").put("customer", "cus_subscriber")
        .put("discounts", new JsonArray()).put("status", "paid").put("payment_intent", paymentIntent)
        .put("subscription", "sub_1").put("status_transitions", new JsonObject().put("paid_at", now()))
        .put("subscription_details", new JsonObject().put("metadata", clickId == null ? new JsonObject()
            : new JsonObject().put("clickId", clickId)));
  }

  static JsonObject razorpayEvent(String type, String paymentId, long amount, String clickId) {
    return new JsonObject().put("entity", "event").put("account_id", "acc_BFQ7uQEaa7j2z7").put("event", type)
        .put("contains", new JsonArray().add("payment")).put("created_at", now())
        .put("payload", new JsonObject().put("payment", new JsonObject().put("entity", new JsonObject()
            .put("id", paymentId).put("entity", "payment").put("amount", amount).put("currency", "INR")
            .put("status", "captured").put("order_id", "order_" + paymentId).put("method", "netbanking")
            .put("captured", true).put("email", "gaurav.kumar@example.com").put("contact", "+919876543210")
            .put("notes", clickId == null ? new JsonArray() : new JsonObject().put("clickId", clickId))
            .put("created_at", now()))));
  }

  // --- sending ---

  Reply stripe(JsonObject event) {
    return stripeSignedWith(STRIPE_SECRET, event);
  }

  Reply stripeSignedWith(String secret, JsonObject event) {
    String body = event.encode();
    return send("stripe", body, "stripe-signature", PaymentProvidersNode.stripeSignature(secret, now(), body));
  }

  Reply razorpay(JsonObject event, String eventId) {
    String body = event.encode();
    return send("razorpay", body, "x-razorpay-signature", PaymentProvidersNode.razorpaySignature(RAZORPAY_SECRET, body),
        "x-razorpay-event-id", eventId);
  }

  Reply send(String provider, String body, String... headers) {
    return client.post("/v1/providers/" + provider + "/" + surface.id(), "application/json", body, headers);
  }

  Reply putSecret(String provider, String secret, Long graceSeconds) {
    JsonObject body = new JsonObject().put("webhookSecret", secret);
    if (graceSeconds != null) {
      body.put("graceSeconds", graceSeconds);
    }
    return client.admin("PUT", "/admin/surfaces/" + surface.id() + "/providers/" + provider, body);
  }

  long owed() {
    return TestBackends.queryLong("SELECT COALESCE(sum(amount_minor), 0) FROM commissions WHERE affiliate_id = ?", affiliate);
  }

  JsonObject lastLogEntry() {
    JsonObject[] entry = new JsonObject[1];
    // The log is written after the answer (best effort, not awaited): poll for it.
    Await.until("the postback log shows the request", Duration.ofSeconds(10), () -> {
      JsonArray items = client.admin("GET", "/admin/postback-log?surfaceId=" + surface.id(), null).json()
          .getJsonArray("items");
      entry[0] = items.isEmpty() ? null : items.getJsonObject(0);
      return entry[0] != null && entry[0].containsKey("form");
    });
    return entry[0];
  }

  double metric(String series) {
    Matcher m = Pattern.compile("^" + Pattern.quote(series) + " ([0-9.eE+-]+)$", Pattern.MULTILINE)
        .matcher(client.get("/metrics").body());
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  static long now() {
    return Instant.now().getEpochSecond();
  }

  static String id(String prefix) {
    return prefix + "_" + Long.toString(System.nanoTime(), 36) + IDS.incrementAndGet();
  }
}
