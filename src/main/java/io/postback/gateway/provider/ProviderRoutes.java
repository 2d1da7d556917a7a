package io.postback.gateway.provider;

import io.postback.gateway.conversion.ConversionRequest;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.http.ErrorResponder;
import io.postback.gateway.http.RouteOrder;
import io.postback.gateway.ingest.ConversionDraft;
import io.postback.gateway.ingest.ConversionPipeline;
import io.postback.gateway.ingest.ConversionPipeline.Answer;
import io.postback.gateway.ingest.IngestAttempt;
import io.postback.gateway.ingest.PostbackLog;
import io.postback.gateway.ingest.SurfaceGuard;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.provider.ProviderSignatures.Refused;
import io.postback.gateway.provider.ProviderStore.ProviderSecret;
import io.postback.gateway.surface.Surface;
import io.postback.gateway.surface.SurfaceRegistry;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code POST /v1/providers/stripe/{surfaceId}} and {@code POST /v1/providers/razorpay/{surfaceId}}: a
 * payment provider's own signed webhooks, turned into conversions and refunds through the one
 * {@link ConversionPipeline} (dedupe, attribution, commission, clawback, events). Answers follow what the
 * providers expect: 200 once everything the event reports is committed; 400 {@code bad_signature} so the
 * provider's dashboard shows the failure; 200 {@code "ignored"} for an event that records nothing (the
 * provider would otherwise retry it for days); 404 for a surface without that provider configured.
 * A redelivered event (same event id) gets its first answer back with {@code "duplicate": true}; events
 * that report one payment land on one conversion by its key (StripeEvents, RazorpayEvents).
 */
public final class ProviderRoutes {
  static final String STRIPE_SIGNATURE = "stripe-signature";
  static final String RAZORPAY_SIGNATURE = "x-razorpay-signature";
  static final String RAZORPAY_EVENT_ID = "x-razorpay-event-id";

  private final SurfaceRegistry surfaces;
  private final ProviderStore store;
  private final ConversionPipeline pipeline;
  private final SurfaceGuard guard;
  private final GatewayMetrics metrics;
  private final PostbackLog log;
  private final int bodyLimit;
  private final Duration refundBackdateLimit;

  public ProviderRoutes(SurfaceRegistry surfaces, ProviderStore store, ConversionPipeline pipeline, SurfaceGuard guard,
                        GatewayMetrics metrics, PostbackLog log, int bodyLimit, Duration refundBackdateLimit) {
    this.surfaces = surfaces;
    this.store = store;
    this.pipeline = pipeline;
    this.guard = guard;
    this.metrics = metrics;
    this.log = log;
    this.bodyLimit = bodyLimit;
    this.refundBackdateLimit = refundBackdateLimit;
  }

  public void mount(Router router) {
    for (Provider provider : Provider.values()) {
      router.post("/v1/providers/" + provider.id() + "/:surfaceId").order(RouteOrder.HOT_PATH)
          .handler(BodyHandler.create(false).setBodyLimit(bodyLimit))
          .handler(ctx -> receive(ctx, provider));
    }
  }

  private void receive(RoutingContext ctx, Provider provider) {
    IngestAttempt attempt = new IngestAttempt(ctx, provider.id(), metrics, log, surfaces);
    Buffer buffer = ctx.body().buffer();
    byte[] body = buffer == null ? new byte[0] : buffer.getBytes();
    String surfaceId = ctx.pathParam("surfaceId");
    Future<Answer> answer = surface(surfaceId)
        .compose(surface -> store.find(surface.id(), provider).compose(secret -> {
          if (secret == null) {
            throw ApiError.of(404, "provider_not_configured", "Surface " + surface.id() + " has no " + provider.id()
                + " webhook secret: PUT /admin/surfaces/" + surface.id() + "/providers/" + provider.id());
          }
          // From here on the surface is known to exist: the postback log records the attempt.
          attempt.providerEvent(surface, null, null);
          verify(ctx, provider, secret, body);
          return guard.checkRate(surface);
        }).map(checked -> {
          ProviderEvent event = provider == Provider.STRIPE ? StripeEvents.map(parse(body))
              : RazorpayEvents.map(ctx.request().getHeader(RAZORPAY_EVENT_ID), parse(body));
          attempt.providerEvent(checked, event.eventType(), event.eventId());
          return new Received(checked, event);
        }))
        .compose(received -> handle(provider, received));
    answer.onSuccess(a -> metrics.providerEvent(provider.id(), outcome(a)))
        .onFailure(e -> metrics.providerEvent(provider.id(), ErrorResponder.code(e)));
    attempt.finish(answer);
  }

  private record Received(Surface surface, ProviderEvent event) {
  }

  private Future<Surface> surface(String surfaceId) {
    if (!Surface.validId(surfaceId)) {
      return Future.failedFuture(ApiError.notFound("Surface " + surfaceId));
    }
    return surfaces.find(surfaceId).map(surface -> {
      if (surface == null) {
        throw ApiError.notFound("Surface " + surfaceId);
      }
      return surface;
    });
  }

  private static void verify(RoutingContext ctx, Provider provider, ProviderSecret secret, byte[] body) {
    List<String> live = secret.live(Instant.now());
    try {
      if (provider == Provider.STRIPE) {
        ProviderSignatures.verifyStripe(ctx.request().getHeader(STRIPE_SIGNATURE), body, live, Instant.now());
      } else {
        ProviderSignatures.verifyRazorpay(ctx.request().getHeader(RAZORPAY_SIGNATURE), body, live);
      }
    } catch (Refused e) {
      throw ApiError.of(400, "bad_signature", e.getMessage());
    }
  }

  private static JsonObject parse(byte[] body) {
    try {
      return new JsonObject(Buffer.buffer(body));
    } catch (DecodeException | ClassCastException e) {
      throw ApiError.of(400, "malformed_json", "The body must be the provider's JSON event object");
    }
  }

  /** Answers a redelivered event from its first answer; else records what it reports. */
  private Future<Answer> handle(Provider provider, Received received) {
    ProviderEvent event = received.event();
    Surface surface = received.surface();
    if (event.ignored() != null) {
      return Future.succeededFuture(new Answer(new JsonObject().put("status", "ignored")
          .put("eventType", event.eventType()).put("reason", event.ignored()), false));
    }
    Future<JsonObject> first = event.eventId() == null ? Future.succeededFuture()
        : store.answered(surface.id(), provider, event.eventId());
    return first.compose(answered -> {
      if (answered != null) {
        return Future.succeededFuture(new Answer(answered.put("duplicate", true), true));
      }
      // Recorded before the conversion, so a refund arriving right after it finds its original.
      Future<Void> paidBy = event.paidBy() == null ? Future.succeededFuture()
          : store.stripePaid(surface.id(), event.paidBy().paymentId(), event.paidBy().externalId());
      return paidBy.compose(v -> record(provider, surface, event)).compose(answer -> event.eventId() == null
          ? Future.succeededFuture(answer)
          // The conversions are committed: failing to remember the event only costs a redelivery its shortcut.
          : store.remember(surface.id(), provider, event.eventId(), event.eventType(), answer.body())
              .map(answer).otherwise(answer));
    });
  }

  /** Each conversion or refund the event reports, in order, through the pipeline. */
  private Future<Answer> record(Provider provider, Surface surface, ProviderEvent event) {
    Instant now = Instant.now();
    List<ConversionRequest> requests = new ArrayList<>();
    for (ConversionDraft draft : event.drafts()) {
      requests.add(draft.validate(surface.id(), now, refundBackdateLimit));
    }
    List<JsonObject> bodies = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (ConversionRequest request : requests) {
      chain = chain.compose(v -> original(provider, surface, request))
          .compose(resolved -> pipeline.submit(surface, resolved))
          .map(answer -> {
            bodies.add(answer.body().put("externalId", request.externalId()));
            return null;
          });
    }
    return chain.map(v -> {
      if (bodies.size() == 1) {
        JsonObject only = bodies.get(0);
        return new Answer(only.put("eventType", event.eventType()), only.getBoolean("duplicate", false));
      }
      boolean allDuplicates = bodies.stream().allMatch(b -> b.getBoolean("duplicate", false));
      return new Answer(new JsonObject().put("status", "accepted").put("duplicate", allDuplicates)
          .put("eventType", event.eventType()).put("items", new JsonArray(new ArrayList<>(bodies))), allDuplicates);
    });
  }

  /**
   * A Stripe refund names its payment intent; a subscription invoice's conversion is keyed by the invoice
   * (StripeEvents): the refund is made to name that conversion.
   */
  private Future<ConversionRequest> original(Provider provider, Surface surface, ConversionRequest request) {
    if (provider != Provider.STRIPE || !request.isRefund()) {
      return Future.succeededFuture(request);
    }
    return store.stripeOriginal(surface.id(), request.refundOf())
        .map(externalId -> externalId == null ? request : request.withRefundOf(externalId));
  }

  private static String outcome(Answer answer) {
    return "ignored".equals(answer.body().getString("status")) ? "ignored" : answer.duplicate() ? "duplicate" : "accepted";
  }
}
