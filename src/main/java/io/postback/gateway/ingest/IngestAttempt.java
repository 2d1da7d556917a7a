package io.postback.gateway.ingest;

import io.netty.handler.codec.http.HttpHeaderValues;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.http.ClientAddress;
import io.postback.gateway.http.ErrorResponder;
import io.postback.gateway.http.RequestDeadline;
import io.postback.gateway.ingest.ConversionPipeline.Answer;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.ops.PostgresProbe;
import io.postback.gateway.surface.Surface;
import io.postback.gateway.surface.SurfaceRegistry;
import io.postback.gateway.text.StorableText;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * One inbound postback in any form, from its arrival to its answer: collects what the postback log
 * should show (form, surface once verified, externalId, eventType) and answers success or failure
 * the same way for every form: JSON, metrics, postback log. It is answered once: when its deadline
 * answers 503 first ({@link RequestDeadline}), a later outcome is not sent; if the conversion was
 * committed after all, the postback log shows that outcome with {@code "afterDeadline": true}, so the
 * integrator sees why the retry is answered as a duplicate.
 * What the log shows of the request itself is cleaned ({@link StorableText#clean}) and clipped, since
 * it is taken before validation: an entry can always be encoded, stored and shown.
 */
public final class IngestAttempt {
  private final RoutingContext ctx;
  private final String form;
  private final GatewayMetrics metrics;
  private final PostbackLog log;
  private final SurfaceRegistry surfaces;
  Surface surface;
  String externalId;
  String eventType;
  private String providerEventId;
  private boolean expired;

  public IngestAttempt(RoutingContext ctx, String form, GatewayMetrics metrics, PostbackLog log, SurfaceRegistry surfaces) {
    this.ctx = ctx;
    this.form = form;
    this.metrics = metrics;
    this.log = log;
    this.surfaces = surfaces;
    RequestDeadline.onExpiry(ctx, error -> {
      expired = true;
      fail(error);
    });
  }

  /** Remembers what the log should show of the postback, taken before validation so rejections show it too. */
  void track(ConversionDraft draft) {
    externalId = StorableText.clean(draft.externalId, ConversionDraft.MAX_EXTERNAL_ID);
    eventType = StorableText.clean(draft.eventType, 32);
  }

  /** A payment provider's event (ProviderRoutes): its type and id as the provider named them. */
  public void providerEvent(Surface verified, String type, String id) {
    surface = verified;
    eventType = StorableText.clean(type, 64);
    providerEventId = StorableText.clean(id, ConversionDraft.MAX_TOKEN);
  }

  /** The client's address (ClientAddress: the socket peer, or what trusted proxies say). */
  String clientAddress() {
    return ClientAddress.of(ctx);
  }

  public void finish(Future<Answer> answer) {
    answer.onSuccess(this::succeed)
        .onFailure(this::fail);
  }

  /** Answers 200 with the answer's body; the outcome was counted by the pipeline. */
  private void succeed(Answer answer) {
    if (expired) {
      record(entry(ctx.response().getStatusCode()).answered(answer, true));
      return;
    }
    record(entry(200).answered(answer, false));
    if (RequestDeadline.answered(ctx)) {
      return;
    }
    ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .end(answer.encoded());
  }

  public void fail(Throwable failure) {
    if (RequestDeadline.answered(ctx)) {
      return;
    }
    PostgresProbe.failed(metrics, failure);
    ApiError error = ErrorResponder.classify(failure);
    metrics.postback("rejected", error.code());
    record(entry(error.status()).rejected(error));
    ErrorResponder.send(ctx, error);
  }

  private PostbackLog.Entry entry(int httpStatus) {
    return new PostbackLog.Entry(form, httpStatus, externalId, eventType, providerEventId, clientAddress());
  }

  private void record(PostbackLog.Entry entry) {
    // Only surfaces known to exist get a log: junk traffic cannot create keys. A postback refused before
    // its surface was looked up (413, 415) is logged under the surface it names, if the gateway knows it.
    Surface known = surface != null ? surface : named();
    if (known != null) {
      log.record(known.id(), entry);
    }
  }

  /** The surface the request names in x-ea-surface, if it is in memory. */
  private Surface named() {
    String id = ctx.request().getHeader(IngestRoutes.SURFACE_HEADER);
    return id == null || !Surface.validId(id) ? null : surfaces.cached(id);
  }
}
