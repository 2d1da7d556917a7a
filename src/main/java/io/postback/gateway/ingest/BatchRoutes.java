package io.postback.gateway.ingest;

import io.postback.gateway.conversion.ConversionRequest;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.http.ErrorResponder;
import io.postback.gateway.http.RouteOrder;
import io.postback.gateway.ingest.ConversionPipeline.Answer;
import io.postback.gateway.surface.Surface;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/conversions/batch} (SPEC §3.4): a signed JSON array, or NDJSON
 * ({@code application/x-ndjson}), of up to 1,000 conversions. The whole body is authenticated once;
 * then every item is parsed, validated and submitted to the same pipeline as a single postback, and
 * answered individually, in order: a bad item fails alone. Items run concurrently, except that an item
 * repeating an earlier item's externalId, or refunding an earlier item, waits for it, so the answers
 * read as if the items had been sent one after the other. The surface's rate limit is charged one token
 * per item, the whole batch at once or not at all (SurfaceGuard).
 *
 * <p>The body may be megabytes, so it is read only once the headers look authentic (known surface,
 * allowed source, fresh timestamp, a signature of the right form, a batch content type); otherwise the
 * 4xx is answered at once and the connection closed, without reading the body.
 */
public final class BatchRoutes {
  public static final int MAX_ITEMS = 1_000;
  private static final String ATTEMPT = BatchRoutes.class.getName() + ".attempt";

  private final IngestRoutes signed;
  private final ConversionPipeline pipeline;
  private final SurfaceGuard guard;
  private final int bodyLimit;

  public BatchRoutes(IngestRoutes signed, ConversionPipeline pipeline, SurfaceGuard guard, int bodyLimit) {
    this.signed = signed;
    this.pipeline = pipeline;
    this.guard = guard;
    this.bodyLimit = bodyLimit;
  }

  public void mount(Router router) {
    // Two routes: Vert.x Web runs a body handler before any other handler of its own route.
    router.post("/v1/conversions/batch").order(RouteOrder.HOT_PATH).handler(this::plausible);
    router.post("/v1/conversions/batch").order(RouteOrder.HOT_PATH)
        .handler(BodyHandler.create(false).setBodyLimit(bodyLimit))
        .handler(this::batch)
        .failureHandler(ctx -> IngestRoutes.tooLarge(ctx, () -> ctx.get(ATTEMPT), bodyLimit));
  }

  /** Checks the headers while the body waits (the request is paused); reads it only if they pass. */
  private void plausible(RoutingContext ctx) {
    IngestAttempt attempt = signed.attempt(ctx, "batch");
    ctx.put(ATTEMPT, attempt);
    if (!ndjson(ctx) && !IngestRoutes.isJson(ctx.request())) {
      refuseUnread(ctx, attempt, ApiError.of(415, "unsupported_media_type",
          "Send content-type: application/json (an array) or application/x-ndjson (one object per line)"));
      return;
    }
    ctx.request().pause();
    signed.plausible(ctx.request(), attempt).onComplete(ar -> {
      if (ar.failed()) {
        refuseUnread(ctx, attempt, ar.cause());
      } else {
        // On to the body handler (next route), which resumes the request.
        ctx.next();
      }
    });
  }

  private static void refuseUnread(RoutingContext ctx, IngestAttempt attempt, Throwable error) {
    // The unread body stays unread: close the connection after the answer rather than drain it.
    ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    attempt.fail(error);
  }

  private static boolean ndjson(RoutingContext ctx) {
    String contentType = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    return contentType != null && contentType.regionMatches(true, 0, "application/x-ndjson", 0, 20);
  }

  private void batch(RoutingContext ctx) {
    IngestAttempt attempt = ctx.get(ATTEMPT);
    boolean ndjson = ndjson(ctx);
    byte[] body = IngestRoutes.bodyBytes(ctx);
    attempt.finish(signed.verify(ctx.request(), body, attempt)
        .compose(surface -> {
          List<byte[]> items = BatchItems.split(body, ndjson, MAX_ITEMS);
          if (items.size() > MAX_ITEMS) {
            throw ApiError.of(413, "too_many_items", "A batch holds at most " + MAX_ITEMS + " conversions; this one has "
                + items.size());
          }
          return guard.checkRate(surface, items.size()).compose(checked -> submitAll(surface, items));
        })
        .map(all -> new Answer(all, false)));
  }

  private Future<JsonObject> submitAll(Surface surface, List<byte[]> items) {
    Instant now = Instant.now();
    List<Future<JsonObject>> answers = new ArrayList<>(items.size());
    Map<String, Future<JsonObject>> lastByExternalId = new HashMap<>();
    for (int i = 0; i < items.size(); i++) {
      int index = i;
      ConversionRequest request;
      try {
        request = signed.validate(JsonConversionParser.parse(items.get(i)), surface, now);
      } catch (ApiError e) {
        answers.add(Future.succeededFuture(itemError(index, e)));
        continue;
      }
      Future<JsonObject> before = lastByExternalId.get(request.externalId());
      if (before == null && request.refundOf() != null) {
        before = lastByExternalId.get(request.refundOf());
      }
      Future<JsonObject> answer = (before == null ? Future.succeededFuture() : before.<Void>transform(ar -> Future.succeededFuture()))
          .compose(v -> pipeline.submit(surface, request))
          .map(a -> itemAnswer(index, a))
          .otherwise(e -> itemError(index, ErrorResponder.classify(e)));
      lastByExternalId.put(request.externalId(), answer);
      answers.add(answer);
    }
    return Future.all(answers).map(all -> {
      JsonArray out = new JsonArray();
      int accepted = 0;
      int duplicates = 0;
      int rejected = 0;
      for (Future<JsonObject> f : answers) {
        JsonObject item = f.result();
        out.add(item);
        if (item.containsKey("error")) {
          rejected++;
        } else if (item.getBoolean("duplicate")) {
          duplicates++;
        } else {
          accepted++;
        }
      }
      return new JsonObject().put("accepted", accepted).put("duplicates", duplicates).put("rejected", rejected)
          .put("items", out);
    });
  }

  private static JsonObject itemAnswer(int index, Answer answer) {
    JsonObject item = new JsonObject().put("index", index);
    answer.body().forEach(e -> item.put(e.getKey(), e.getValue()));
    return item;
  }

  private static JsonObject itemError(int index, ApiError e) {
    JsonObject item = new JsonObject().put("index", index).put("error", e.code()).put("message", e.getMessage());
    if (e.field() != null) {
      item.put("field", e.field());
    }
    return item;
  }
}
